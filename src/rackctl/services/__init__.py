"""Plain functions that do rackctl's work: read endpoints, talk to devices, record results."""
