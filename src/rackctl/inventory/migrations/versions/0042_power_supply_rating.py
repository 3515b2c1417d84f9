"""power supply rating per device type, for redundancy with a feed lost

Revision ID: 0042
Revises: 0041
Create Date: 2026-11-24 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("device_types") as batch:
        batch.add_column(sa.Column("psu_rating_w", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("device_types") as batch:
        batch.drop_column("psu_rating_w")
