"""PostgreSQL privileges for a team's inventory: operators change the inventory and append to the logs,
but cannot rewrite or empty them; only the owner (who runs `rackctl init` and `rackctl db upgrade`) can."""

from __future__ import annotations

import re

from rackctl.errors import ValidationError
from rackctl.inventory.db import Base
from rackctl.inventory.models.oplog import APPEND_ONLY_TABLES

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def operator_grants(role: str) -> list[str]:
    """The statements that make `role` an operator of the inventory in the current schema."""
    if not _ROLE.match(role):
        raise ValidationError(f"--role '{role}': a PostgreSQL role name is lower-case letters, digits and _")
    evidence = set(APPEND_ONLY_TABLES)
    editable = sorted(t.name for t in Base.metadata.sorted_tables if t.name not in evidence)
    return [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role};",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(editable)} TO {role};",
        f"GRANT SELECT, INSERT ON {', '.join(sorted(evidence))} TO {role};",
        f"GRANT SELECT ON alembic_version TO {role};",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role};",
    ]
