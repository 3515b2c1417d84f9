"""rackctl: bring GPU inference racks up and keep them true to their inventory."""

__version__ = "0.1.0"
