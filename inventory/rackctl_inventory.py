#!/usr/bin/env python3
"""Ansible dynamic inventory from the rackctl database: `--list` prints exactly `rackctl export ansible-inventory`.

    ansible-inventory -i inventory/rackctl_inventory.py --graph
    RACKCTL_DB_URL=postgresql+psycopg://... ansible-playbook -i inventory/rackctl_inventory.py playbooks/site.yml

The database is the one rackctl uses (RACKCTL_DB_URL, the settings file, or the default).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# From a source checkout, use the checkout's rackctl rather than whatever is installed.
_SRC = Path(__file__).resolve().parents[1] / "src"
if (_SRC / "rackctl").is_dir():
    sys.path.insert(0, str(_SRC))

from rackctl.inventory.export import inventory_document  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="rackctl inventory for Ansible")
    parser.add_argument("--list", action="store_true", help="all groups and host variables")
    parser.add_argument("--host", help="one host's variables")
    args = parser.parse_args(argv)
    if not args.list and not args.host:
        parser.error("give --list or --host NAME")
    try:
        document = inventory_document(host=args.host)
    except Exception as exc:  # Ansible shows stderr; a traceback helps nobody here
        print(f"rackctl inventory: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
