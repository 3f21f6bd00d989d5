"""audit entries name the kind of actor and the approver

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00

Every change now goes through ``changes.record``, which names who acted (a
member of staff, a development instance's tools, or the register's own
calendar tick) and, for a four-eyes act, who approved. Earlier decisions kept
the approver in ``actor_id`` and the proposer in ``detail``; they are moved to
the new columns. Entries without an actor were made by development tools.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KINDS = ("staff", "development", "system")


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("actor_kind", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("approver_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_audit_log_approver_id_staff_user"), "staff_user", ["approver_id"], ["id"]
        )
    audit = sa.table(
        "audit_log",
        sa.column("id", sa.Integer()),
        sa.column("actor_id", sa.Integer()),
        sa.column("approver_id", sa.Integer()),
        sa.column("actor_kind", sa.String()),
        sa.column("detail", sa.JSON()),
    )
    connection = op.get_bind()
    for row_id, actor_id, detail in connection.execute(
        sa.select(audit.c.id, audit.c.actor_id, audit.c.detail)
    ).all():
        values: dict[str, object] = {"actor_kind": "development" if actor_id is None else "staff"}
        found = detail if isinstance(detail, dict) else json.loads(detail or "{}")
        proposer = found.get("proposed_by")
        if actor_id is not None and proposer is not None and proposer != actor_id:
            values.update(actor_id=proposer, approver_id=actor_id)
        connection.execute(sa.update(audit).where(audit.c.id == row_id).values(**values))
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("actor_kind", existing_type=sa.String(length=32), nullable=False)
        batch.create_check_constraint(
            op.f("ck_audit_log_actor_kind"),
            "actor_kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
        )
        batch.create_check_constraint(
            op.f("ck_audit_log_staff_actor_named"),
            "(actor_kind = 'staff') = (actor_id IS NOT NULL)",
        )
        batch.create_check_constraint(
            op.f("ck_audit_log_four_eyes"),
            "approver_id IS NULL OR actor_id IS NULL OR approver_id <> actor_id",
        )


def downgrade() -> None:
    # Revision 0003 kept the approver of a decision as its actor.
    op.execute("UPDATE audit_log SET actor_id = approver_id WHERE approver_id IS NOT NULL")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("ck_audit_log_four_eyes"), type_="check")
        batch.drop_constraint(op.f("ck_audit_log_staff_actor_named"), type_="check")
        batch.drop_constraint(op.f("ck_audit_log_actor_kind"), type_="check")
        batch.drop_constraint(op.f("fk_audit_log_approver_id_staff_user"), type_="foreignkey")
        batch.drop_column("approver_id")
        batch.drop_column("actor_kind")
