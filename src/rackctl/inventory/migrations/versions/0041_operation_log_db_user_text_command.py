"""operation log: command as text, the database's own session user; no TRUNCATE of the logs

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-05 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("operations", "operation_results", "changes")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _sqlite_append_only_triggers() -> None:
    # A batch rebuild of `operations` on SQLite drops its triggers with the old table: put them back.
    for action in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS operations_no_{action.lower()}")
        op.execute(
            f"CREATE TRIGGER operations_no_{action.lower()} BEFORE {action} ON operations "
            "BEGIN SELECT RAISE(ABORT, 'the operation log is append-only'); END"
        )


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.alter_column("command", existing_type=sa.String(length=255), type_=sa.Text(), existing_nullable=False)
        batch_op.add_column(sa.Column("db_user", sa.String(length=64), nullable=True))
    if not _postgres():
        _sqlite_append_only_triggers()
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION rackctl_db_user() RETURNS trigger AS $$ "
        "BEGIN NEW.db_user := session_user; RETURN NEW; END $$ LANGUAGE plpgsql"
    )
    op.execute(
        "CREATE TRIGGER operations_db_user BEFORE INSERT ON operations FOR EACH ROW EXECUTE FUNCTION rackctl_db_user()"
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION rackctl_append_only()"
        )


def downgrade() -> None:
    if _postgres():
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS operations_db_user ON operations")
        op.execute("DROP FUNCTION IF EXISTS rackctl_db_user()")
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_column("db_user")
        batch_op.alter_column(
            "command",
            existing_type=sa.Text(),
            type_=sa.String(length=255),
            existing_nullable=False,
            postgresql_using="left(command, 255)",
        )
    if not _postgres():
        _sqlite_append_only_triggers()
