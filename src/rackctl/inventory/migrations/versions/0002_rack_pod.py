"""racks.pod: the pod a rack belongs to, for `@pod:NAME` targets

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("racks") as batch:
        batch.add_column(sa.Column("pod", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_racks_pod"), ["pod"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("racks") as batch:
        batch.drop_index(batch.f("ix_racks_pod"))
        batch.drop_column("pod")
