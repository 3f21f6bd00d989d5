"""served copy of certificates

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:22:43.777599
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("served_sha256", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_certificate_served_sha256_blob"), "blob", ["served_sha256"], ["sha256"]
        )


def downgrade() -> None:

    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_certificate_served_sha256_blob"), type_="foreignkey"
        )
        batch_op.drop_column("served_sha256")
