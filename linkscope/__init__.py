"""linkscope: common-control detection for exchange accounts."""

__version__ = "0.1.0"
