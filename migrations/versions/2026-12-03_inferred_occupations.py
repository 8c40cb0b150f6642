"""Occupations read from the text: candidate.inferred_occupations, vacancy.inferred_occupations.

Revision ID: 4d8a1f0c2b93
Revises: 8d3f5a1c2e90
Create Date: 2026-12-03 14:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4d8a1f0c2b93"
down_revision: str | None = "8d3f5a1c2e90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows start empty; the next write of the row, or `werkmatch occupations infer`,
    # reads them from the stored text.
    for table in ("candidate", "vacancy"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("inferred_occupations", sa.JSON(), nullable=False, server_default="[]")
            )


def downgrade() -> None:
    for table in ("candidate", "vacancy"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("inferred_occupations")
