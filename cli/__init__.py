"""The ``linkscope`` command line: the top layer, which may import every other package.

Commands only parse options and call library functions."""
