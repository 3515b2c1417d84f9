"""Revision 0001: audit findings and results, device-type components, operation results and ends, racks."""

import sqlalchemy as sa
from alembic import op


def create_children() -> None:
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
