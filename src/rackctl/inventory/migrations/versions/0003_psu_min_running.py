"""device_types.psu_min_running: how few supplies a device keeps running on, power-capped (vendor figure)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("device_types") as batch:
        batch.add_column(sa.Column("psu_min_running", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("device_types") as batch:
        batch.drop_column("psu_min_running")
