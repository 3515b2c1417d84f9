"""switch ports can be broken out

Revision ID: 0010
Revises: 0003
Create Date: 2026-11-23 17:11:15.752140
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interfaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("breakout", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interfaces", schema=None) as batch_op:
        batch_op.drop_column("breakout")
