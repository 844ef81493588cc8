"""Detection and assessment over projections read from the graph and the event store; one
run (``analytics.pipeline``) writes its results back into the graph."""
