"""profile firmware baseline and BIOS settings

Revision ID: 0040
Revises: 0030
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty objects, not NULL: a profile without a baseline simply names no component.
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("firmware", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("bios", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_column("bios")
        batch_op.drop_column("firmware")
