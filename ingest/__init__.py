"""Reading the data contract's files, validating rows, and loading them into the graph."""
