"""leases for destructive operations; operation ends (an operation is its intent, its results, its end)

Revision ID: 0043
Revises: 0042
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _append_only(table: str) -> None:
    """Like the rest of the operation log, ends are evidence: the database refuses UPDATE and DELETE."""
    if op.get_bind().dialect.name == "postgresql":
        # rackctl_append_only() comes from revision 0002; the TRUNCATE guard is 0041's, for this table too.
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION rackctl_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION rackctl_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'the operation log is append-only'); END"
        )


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("subject", sa.String(length=160), nullable=False),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("doing", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_leases")),
    )
    with op.batch_alter_table("leases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leases_token"), ["token"], unique=False)
    op.create_table(
        "operation_ends",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.String(length=512), nullable=False),
        sa.Column("interrupted", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_operation_ends_operation_id_operations")
        ),
        sa.PrimaryKeyConstraint("operation_id", name=op.f("pk_operation_ends")),
    )
    # Every operation logged before this revision was written whole, after it ended: it has ended.
    op.execute(
        "INSERT INTO operation_ends (operation_id, finished_at, ok, summary, interrupted) "
        "SELECT id, finished_at, ok, summary, '' FROM operations"
    )
    _append_only("operation_ends")


def downgrade() -> None:
    # The ends of earlier operations live on in operations.ok/summary; an interrupted run's end is lost.
    op.drop_table("operation_ends")
    with op.batch_alter_table("leases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leases_token"))
    op.drop_table("leases")
