"""transparency log: entries, subtree hashes, checkpoints, cosignatures; history backfilled

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00

Every public fact gets a leaf in an RFC 9162 Merkle tree from now on. The
history from before is appended here, in the order it happened: each issued
certificate and each approved decision, with the leaf format version 1
(``registry.log.leaves``, whose bytes never change meaning). Certificates and
decisions record the index of their leaf.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from registry.log.backfill import backfill

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_entry",
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("index", name=op.f("pk_log_entry")),
    )
    op.create_index(op.f("ix_log_entry_kind"), "log_entry", ["kind"], unique=False)
    op.create_table(
        "log_hash",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "index", name=op.f("pk_log_hash")),
    )
    op.create_table(
        "log_checkpoint",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_log_checkpoint")),
    )
    op.create_table(
        "log_cosignature",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["size"], ["log_checkpoint.size"], name=op.f("fk_log_cosignature_size_log_checkpoint")
        ),
        sa.PrimaryKeyConstraint("size", "witness", name=op.f("pk_log_cosignature")),
    )
    with op.batch_alter_table("certificate") as batch:
        batch.add_column(sa.Column("log_index", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint(op.f("uq_certificate_log_index"), ["log_index"])
    with op.batch_alter_table("status_event") as batch:
        batch.add_column(sa.Column("log_index", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint(op.f("uq_status_event_log_index"), ["log_index"])

    with Session(bind=op.get_bind()) as session:
        backfill(session)
        session.flush()


def downgrade() -> None:
    with op.batch_alter_table("status_event") as batch:
        batch.drop_constraint(op.f("uq_status_event_log_index"), type_="unique")
        batch.drop_column("log_index")
    with op.batch_alter_table("certificate") as batch:
        batch.drop_constraint(op.f("uq_certificate_log_index"), type_="unique")
        batch.drop_column("log_index")
    op.drop_table("log_cosignature")
    op.drop_table("log_checkpoint")
    op.drop_table("log_hash")
    op.drop_index(op.f("ix_log_entry_kind"), table_name="log_entry")
    op.drop_table("log_entry")
