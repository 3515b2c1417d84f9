"""Revision 0001: the logs are evidence. The database itself refuses UPDATE, DELETE and (PostgreSQL)
TRUNCATE of their rows, and on PostgreSQL each operation records the session user that wrote it."""

from alembic import op

APPEND_ONLY = ("operations", "operation_results", "operation_ends", "changes")


def postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def forbid_rewrites() -> None:
    """The logs are evidence: UPDATE, DELETE and TRUNCATE are refused by the database itself."""
    if not postgres():
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION rackctl_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION rackctl_db_user() RETURNS trigger AS $$ "
        "BEGIN NEW.db_user := session_user; RETURN NEW; END $$ LANGUAGE plpgsql"
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION rackctl_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION rackctl_append_only()"
        )
    op.execute(
        "CREATE TRIGGER operations_db_user BEFORE INSERT ON operations FOR EACH ROW EXECUTE FUNCTION rackctl_db_user()"
    )


def drop_functions() -> None:
    if postgres():
        op.execute("DROP FUNCTION IF EXISTS rackctl_append_only() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS rackctl_db_user() CASCADE")
