"""Revision 0001: power feeds, devices and what hangs off them (ports, addresses, keys, cables, outlets)."""

import sqlalchemy as sa
from alembic import op


def create_devices() -> None:
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
