"""The state a rematch run keeps for the next, incremental one: rematch_state.

Revision ID: 6e2b9d4f7a15
Revises: 4d8a1f0c2b93
Create Date: 2026-12-04 16:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "6e2b9d4f7a15"
down_revision: str | None = "4d8a1f0c2b93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rematch_state",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("dtype", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("shape", sa.JSON(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["rematch_run.id"],
            name=op.f("fk_rematch_state_run_id_rematch_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "name", "part", name=op.f("pk_rematch_state")),
    )


def downgrade() -> None:
    op.drop_table("rematch_state")
