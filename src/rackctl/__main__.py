"""`python -m rackctl` runs the CLI."""

from rackctl.cli.app import main

main()
