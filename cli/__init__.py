"""The ``linkscope`` command line: the top layer, which may import every other package.

Commands only parse options and call library functions. They import the library inside their
bodies: `linkscope --help`, option errors and a missing argument then answer in a fraction of a
second, without loading pyarrow, DuckDB, igraph or the graph drivers."""
