"""Detection and assessment over projections read from the graph (issue: detection)."""
