"""change log: every inventory object created, changed or deleted, field by field; append-only

Revision ID: 0030
Revises: 0020
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("command", sa.String(length=255), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("object_name", sa.String(length=255), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("peer", sa.String(length=128), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    for column in ("scope", "peer", "kind"):
        op.create_index(f"ix_changes_{column}", "changes", [column])
    _forbid_rewrites()


def _forbid_rewrites() -> None:
    """Like the operation log (0002): the database itself refuses UPDATE and DELETE of an entry."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(  # rackctl_append_only() comes from 0002
            "CREATE TRIGGER changes_append_only BEFORE UPDATE OR DELETE ON changes "
            "FOR EACH ROW EXECUTE FUNCTION rackctl_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER changes_no_{action.lower()} BEFORE {action} ON changes "
            "BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS changes_append_only ON changes")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS changes_no_{action}")
    for column in ("kind", "peer", "scope"):
        op.drop_index(f"ix_changes_{column}", table_name="changes")
    op.drop_table("changes")
