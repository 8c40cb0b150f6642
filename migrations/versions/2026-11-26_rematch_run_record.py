"""A rematch run records its model and the change-log positions it read the profiles at.

Revision ID: 6e2b8d1f4c70
Revises: b7e3d1a94c20
Create Date: 2026-11-26 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "6e2b8d1f4c70"
down_revision: str | None = "b7e3d1a94c20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rematch_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("model_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(sa.Column("change_seq_from", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("change_seq_to", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rematch_run", schema=None) as batch_op:
        batch_op.drop_column("change_seq_to")
        batch_op.drop_column("change_seq_from")
        batch_op.drop_column("model_id")
