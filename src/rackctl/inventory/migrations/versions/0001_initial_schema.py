"""initial schema: the inventory, the audit history, the operation log and the change log

The logs are evidence: the database itself refuses UPDATE, DELETE and (PostgreSQL) TRUNCATE of their rows,
and on PostgreSQL each operation records the session user that wrote it, whatever the client claims.

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from rackctl.inventory import initial_schema

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    initial_schema.upgrade()


def downgrade() -> None:
    initial_schema.downgrade()
