"""initial schema: the inventory, the audit history, the operation log and the change log

The logs are evidence: the database itself refuses UPDATE, DELETE and (PostgreSQL) TRUNCATE of their rows,
and on PostgreSQL each operation records the session user that wrote it, whatever the client claims.

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = ("operations", "operation_results", "operation_ends", "changes")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _forbid_rewrites() -> None:
    """The logs are evidence: UPDATE, DELETE and TRUNCATE are refused by the database itself."""
    if not _postgres():
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


def _drop_functions() -> None:
    if _postgres():
        op.execute("DROP FUNCTION IF EXISTS rackctl_append_only() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS rackctl_db_user() CASCADE")


def upgrade() -> None:
    op.create_table(
        "audit_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("targets", sa.String(length=1024), nullable=False),
        sa.Column("layers", sa.JSON(), nullable=False),
        sa.Column("shard", sa.String(length=16), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("not_audited", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_runs")),
    )
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
        sa.Column("before", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("after", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index("ix_changes_kind", ["kind"], unique=False)
        batch_op.create_index("ix_changes_peer", ["peer"], unique=False)
        batch_op.create_index("ix_changes_scope", ["scope"], unique=False)

    op.create_table(
        "device_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("manufacturer", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("u_height", sa.Double(), nullable=False),
        sa.Column("is_full_depth", sa.Boolean(), nullable=False),
        sa.Column("airflow", sa.String(length=32), nullable=True),
        sa.Column("weight_kg", sa.Double(), nullable=True),
        sa.Column("gpu_model", sa.String(length=64), nullable=True),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("max_draw_w", sa.Integer(), nullable=True),
        sa.Column("inrush_w", sa.Integer(), nullable=True),
        sa.Column("rated_power_w", sa.Integer(), nullable=True),
        sa.Column("psu_rating_w", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_types")),
        sa.UniqueConstraint("slug", name=op.f("uq_device_types_slug")),
    )
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
        "operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("db_user", sa.String(length=64), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operations")),
    )
    op.create_table(
        "profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("nvidia_driver", sa.String(length=32), nullable=True),
        sa.Column("cuda", sa.String(length=32), nullable=True),
        sa.Column("fabric_manager", sa.String(length=32), nullable=True),
        sa.Column("dcgm", sa.String(length=32), nullable=True),
        sa.Column("ofed", sa.String(length=32), nullable=True),
        sa.Column("container_toolkit", sa.String(length=32), nullable=True),
        sa.Column("serving_runtime", sa.String(length=32), nullable=True),
        sa.Column("serving_model", sa.String(length=255), nullable=True),
        sa.Column("serving_port", sa.Integer(), nullable=True),
        sa.Column("tensor_parallel", sa.Integer(), nullable=True),
        sa.Column("bmc_firmware", sa.String(length=64), nullable=True),
        sa.Column("bios_firmware", sa.String(length=64), nullable=True),
        sa.Column("bond_mode", sa.String(length=32), nullable=True),
        sa.Column("mtu", sa.Integer(), nullable=True),
        sa.Column("sriov_vfs", sa.Integer(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("firmware", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("bios", sa.JSON(), server_default="{}", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
        sa.UniqueConstraint("name", name=op.f("uq_profiles_name")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("name", name=op.f("uq_sites_name")),
    )
    op.create_table(
        "audit_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("layer", sa.String(length=32), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("expected", sa.String(length=512), nullable=False),
        sa.Column("observed", sa.String(length=512), nullable=False),
        sa.Column("hint", sa.String(length=1024), nullable=False),
        sa.Column("first_seen_run_id", sa.Integer(), nullable=False),
        sa.Column("last_seen_run_id", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_run_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["first_seen_run_id"], ["audit_runs.id"], name=op.f("fk_audit_findings_first_seen_run_id_audit_runs")
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_run_id"], ["audit_runs.id"], name=op.f("fk_audit_findings_last_seen_run_id_audit_runs")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_run_id"], ["audit_runs.id"], name=op.f("fk_audit_findings_resolved_run_id_audit_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_findings")),
    )
    with op.batch_alter_table("audit_findings", schema=None) as batch_op:
        batch_op.create_index("ix_audit_findings_identity", ["device", "layer", "check", "subject"], unique=False)

    op.create_table(
        "audit_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("layer", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=1024), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["audit_runs.id"], name=op.f("fk_audit_results_run_id_audit_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_results")),
        sa.UniqueConstraint("run_id", "device", "layer", name=op.f("uq_audit_results_run_id_device_layer")),
    )
    op.create_table(
        "device_type_console_ports",
        sa.Column("server", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_type_id"],
            ["device_types.id"],
            name=op.f("fk_device_type_console_ports_device_type_id_device_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_type_console_ports")),
        sa.UniqueConstraint("device_type_id", "name", name=op.f("uq_device_type_console_ports_device_type_id_name")),
    )
    op.create_table(
        "device_type_interfaces",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("speed_mbps", sa.Integer(), nullable=True),
        sa.Column("mgmt_only", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_type_id"],
            ["device_types.id"],
            name=op.f("fk_device_type_interfaces_device_type_id_device_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_type_interfaces")),
        sa.UniqueConstraint("device_type_id", "name", name=op.f("uq_device_type_interfaces_device_type_id_name")),
    )
    op.create_table(
        "device_type_module_bays",
        sa.Column("position", sa.String(length=32), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_type_id"],
            ["device_types.id"],
            name=op.f("fk_device_type_module_bays_device_type_id_device_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_type_module_bays")),
        sa.UniqueConstraint("device_type_id", "name", name=op.f("uq_device_type_module_bays_device_type_id_name")),
    )
    op.create_table(
        "device_type_outlets",
        sa.Column("feed_leg", sa.String(length=8), nullable=True),
        sa.Column("power_port", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_type_id"],
            ["device_types.id"],
            name=op.f("fk_device_type_outlets_device_type_id_device_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_type_outlets")),
        sa.UniqueConstraint("device_type_id", "name", name=op.f("uq_device_type_outlets_device_type_id_name")),
    )
    op.create_table(
        "device_type_power_ports",
        sa.Column("maximum_draw_w", sa.Integer(), nullable=True),
        sa.Column("allocated_draw_w", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_type_id"],
            ["device_types.id"],
            name=op.f("fk_device_type_power_ports_device_type_id_device_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_type_power_ports")),
        sa.UniqueConstraint("device_type_id", "name", name=op.f("uq_device_type_power_ports_device_type_id_name")),
    )
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
    op.create_table(
        "operation_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("message", sa.String(length=1024), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_operation_results_operation_id_operations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operation_results")),
    )
    op.create_table(
        "racks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("u_height", sa.Integer(), nullable=False),
        sa.Column("power_capacity_kw", sa.Double(), nullable=False),
        sa.Column("cooling_kind", sa.String(length=32), nullable=False),
        sa.Column("cooling_limit_kw", sa.Double(), nullable=False),
        sa.Column("template", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_racks_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_racks")),
        sa.UniqueConstraint("name", name=op.f("uq_racks_name")),
    )
    op.create_table(
        "audit_sightings",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("expected", sa.String(length=512), nullable=False),
        sa.Column("observed", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["audit_findings.id"],
            name=op.f("fk_audit_sightings_finding_id_audit_findings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["audit_runs.id"], name=op.f("fk_audit_sightings_run_id_audit_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "finding_id", name=op.f("pk_audit_sightings")),
    )
    op.create_table(
        "power_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rack_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("voltage", sa.Integer(), nullable=False),
        sa.Column("amperage", sa.Double(), nullable=False),
        sa.Column("phases", sa.Integer(), nullable=False),
        sa.Column("max_utilisation", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rack_id"], ["racks.id"], name=op.f("fk_power_feeds_rack_id_racks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_power_feeds")),
        sa.UniqueConstraint("rack_id", "name", name=op.f("uq_power_feeds_rack_id_name")),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("rack_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("face", sa.String(length=32), nullable=False),
        sa.Column("device_type_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("asset_tag", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("power_feed_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_type_id"], ["device_types.id"], name=op.f("fk_devices_device_type_id_device_types")
        ),
        sa.ForeignKeyConstraint(
            ["power_feed_id"], ["power_feeds.id"], name=op.f("fk_devices_power_feed_id_power_feeds")
        ),
        sa.ForeignKeyConstraint(["profile_id"], ["profiles.id"], name=op.f("fk_devices_profile_id_profiles")),
        sa.ForeignKeyConstraint(["rack_id"], ["racks.id"], name=op.f("fk_devices_rack_id_racks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("asset_tag", name=op.f("uq_devices_asset_tag")),
        sa.UniqueConstraint("name", name=op.f("uq_devices_name")),
        sa.UniqueConstraint("serial", name=op.f("uq_devices_serial")),
    )
    op.create_table(
        "host_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("key_type", sa.String(length=64), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("trusted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trusted_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_host_keys_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_keys")),
        sa.UniqueConstraint("device_id", "key_type", name=op.f("uq_host_keys_device_id_key_type")),
    )
    op.create_table(
        "interfaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.Column("speed_mbps", sa.Integer(), nullable=True),
        sa.Column("mac", sa.String(length=17), nullable=True),
        sa.Column("mtu", sa.Integer(), nullable=True),
        sa.Column("bond_id", sa.Integer(), nullable=True),
        sa.Column("sriov_vfs", sa.Integer(), nullable=False),
        sa.Column("mgmt_only", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("breakout", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["bond_id"], ["interfaces.id"], name=op.f("fk_interfaces_bond_id_interfaces"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_interfaces_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interfaces")),
        sa.UniqueConstraint("device_id", "name", name=op.f("uq_interfaces_device_id_name")),
        sa.UniqueConstraint("mac", name=op.f("uq_interfaces_mac")),
    )
    op.create_table(
        "management_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("protocol", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("credential_ref", sa.String(length=512), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("verify_tls", sa.Boolean(), nullable=False),
        sa.Column("detected_protocol", sa.String(length=32), nullable=True),
        sa.Column("system_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_management_endpoints_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_management_endpoints")),
        sa.UniqueConstraint("address", "port", name=op.f("uq_management_endpoints_address_port")),
        sa.UniqueConstraint("device_id", name=op.f("uq_management_endpoints_device_id")),
    )
    op.create_table(
        "power_ports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.Column("maximum_draw_w", sa.Integer(), nullable=True),
        sa.Column("allocated_draw_w", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_power_ports_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_power_ports")),
        sa.UniqueConstraint("device_id", "name", name=op.f("uq_power_ports_device_id_name")),
    )
    op.create_table(
        "state_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_state_changes_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_changes")),
    )
    op.create_table(
        "cables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("a_id", sa.Integer(), nullable=False),
        sa.Column("b_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("length_m", sa.Double(), nullable=True),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["a_id"], ["interfaces.id"], name=op.f("fk_cables_a_id_interfaces"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["b_id"], ["interfaces.id"], name=op.f("fk_cables_b_id_interfaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cables")),
        sa.UniqueConstraint("a_id", name=op.f("uq_cables_a_id")),
        sa.UniqueConstraint("b_id", name=op.f("uq_cables_b_id")),
        sa.UniqueConstraint("label", name=op.f("uq_cables_label")),
    )
    op.create_table(
        "ip_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interface_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("prefix_len", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interface_id"],
            ["interfaces.id"],
            name=op.f("fk_ip_addresses_interface_id_interfaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ip_addresses")),
        sa.UniqueConstraint("address", name=op.f("uq_ip_addresses_address")),
    )
    op.create_table(
        "pdu_outlets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pdu_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.Column("phase", sa.String(length=8), nullable=True),
        sa.Column("rating_a", sa.Double(), nullable=True),
        sa.Column("power_port_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pdu_id"], ["devices.id"], name=op.f("fk_pdu_outlets_pdu_id_devices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["power_port_id"],
            ["power_ports.id"],
            name=op.f("fk_pdu_outlets_power_port_id_power_ports"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pdu_outlets")),
        sa.UniqueConstraint("pdu_id", "number", name=op.f("uq_pdu_outlets_pdu_id_number")),
        sa.UniqueConstraint("power_port_id", name=op.f("uq_pdu_outlets_power_port_id")),
    )
    _forbid_rewrites()


def downgrade() -> None:
    op.drop_table("pdu_outlets")
    op.drop_table("ip_addresses")
    op.drop_table("cables")
    op.drop_table("state_changes")
    op.drop_table("power_ports")
    op.drop_table("management_endpoints")
    op.drop_table("interfaces")
    op.drop_table("host_keys")
    op.drop_table("devices")
    op.drop_table("power_feeds")
    op.drop_table("audit_sightings")
    op.drop_table("racks")
    op.drop_table("operation_results")
    op.drop_table("operation_ends")
    op.drop_table("device_type_power_ports")
    op.drop_table("device_type_outlets")
    op.drop_table("device_type_module_bays")
    op.drop_table("device_type_interfaces")
    op.drop_table("device_type_console_ports")
    op.drop_table("audit_results")
    with op.batch_alter_table("audit_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_findings_identity")

    op.drop_table("audit_findings")
    op.drop_table("sites")
    op.drop_table("profiles")
    op.drop_table("operations")
    with op.batch_alter_table("leases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leases_token"))

    op.drop_table("leases")
    op.drop_table("device_types")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_scope")
        batch_op.drop_index("ix_changes_peer")
        batch_op.drop_index("ix_changes_kind")

    op.drop_table("changes")
    op.drop_table("audit_runs")
    _drop_functions()
