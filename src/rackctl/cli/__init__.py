"""The rackctl command line: parses, resolves targets, prints. Services do the work."""
