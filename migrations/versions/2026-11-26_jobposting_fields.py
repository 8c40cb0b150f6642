"""Vacancy fields for schema.org JobPosting intake, and the JobPosting properties kept aside.

Revision ID: aedf6bbf2a03
Revises: 2c7f6ca67a33
Create Date: 2026-11-26 04:15:23.698574
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "aedf6bbf2a03"
down_revision: str | None = "2c7f6ca67a33"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vacancy", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("employer_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
        batch_op.add_column(
            sa.Column("locality", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
        batch_op.add_column(
            sa.Column("employment_type", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.add_column(
            sa.Column("occupation_code", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
        )
        batch_op.add_column(sa.Column("posted_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("extra_properties", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vacancy", schema=None) as batch_op:
        batch_op.drop_column("extra_properties")
        batch_op.drop_column("posted_on")
        batch_op.drop_column("occupation_code")
        batch_op.drop_column("employment_type")
        batch_op.drop_column("locality")
        batch_op.drop_column("employer_name")
