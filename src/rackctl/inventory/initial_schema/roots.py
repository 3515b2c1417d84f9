"""Revision 0001: the tables that reference no other table."""

import sqlalchemy as sa
from alembic import op


def create_roots() -> None:
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
