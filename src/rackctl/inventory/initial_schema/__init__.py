"""The initial schema (revision 0001), in parts small enough to read: the revision file calls `upgrade` and
`downgrade`. Frozen like any migration: a later schema change is a new revision, never an edit here."""

from alembic import op

from rackctl.inventory.initial_schema.children import create_children
from rackctl.inventory.initial_schema.devices import create_devices
from rackctl.inventory.initial_schema.evidence import drop_functions, forbid_rewrites
from rackctl.inventory.initial_schema.roots import create_roots


def upgrade() -> None:
    create_roots()
    create_children()
    create_devices()
    forbid_rewrites()


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
    drop_functions()
