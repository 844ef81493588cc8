"""The event store: fills and orders as day-partitioned Parquet beside the graph."""
