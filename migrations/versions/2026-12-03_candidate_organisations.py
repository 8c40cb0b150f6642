"""Organisations within a labour-market region: a candidate belongs to at most one
organisation, and an intake or director key may be bound to one.

Existing candidates and keys get no organisation (NULL): keys without an organisation see
them as before, and keys bound to one see only the candidates later assigned to it.

Revision ID: 8d3f5a1c2e90
Revises: 6e2b8d1f4c70
Create Date: 2026-12-03 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "8d3f5a1c2e90"
down_revision: str | None = "6e2b8d1f4c70"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("organisation_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_candidate_organisation_id"), ["organisation_id"], unique=False
        )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("organisation_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_column("organisation_id")
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidate_organisation_id"))
        batch_op.drop_column("organisation_id")
