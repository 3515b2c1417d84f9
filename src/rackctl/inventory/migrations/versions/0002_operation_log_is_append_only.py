"""operation log is append-only

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:59:15.636735
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = ("operations", "operation_results")


def _forbid_rewrites(table: str) -> None:
    """The operation log is evidence: the database itself refuses UPDATE and DELETE on it."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION rackctl_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'the operation log is append-only'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION rackctl_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'the operation log is append-only'); END"
        )


def _allow_rewrites(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        return
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def upgrade() -> None:
    for table in APPEND_ONLY:
        _forbid_rewrites(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        _allow_rewrites(table)
