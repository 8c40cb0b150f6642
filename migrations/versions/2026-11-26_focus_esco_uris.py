"""Focus occupations defined by ESCO occupation: focus_occupation.esco_uris.

Revision ID: 5f1c2a9d7e40
Revises: 9a4c1ccef7bb
Create Date: 2026-11-26 05:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5f1c2a9d7e40"
down_revision: str | None = "9a4c1ccef7bb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing focus occupations get an empty list: they stay defined by name and synonyms.
    with op.batch_alter_table("focus_occupation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("esco_uris", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("focus_occupation", schema=None) as batch_op:
        batch_op.drop_column("esco_uris")
