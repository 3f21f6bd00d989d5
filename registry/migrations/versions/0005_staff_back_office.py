"""staff back office: role grants, sessions, lockout, cases, CAB contacts, audit immutability

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:00:00

- Roles become grants (``staff_role_grant``): earlier roles move over
  (``approver`` is now ``decision_maker``, ``admin`` is now ``registrar``) and
  the ``staff_user.role`` column goes. Accounts gain a TOTP secret and the last
  time step used.
- Server-side staff sessions and login attempts (the lockout counts them).
- Cases and what they hold: assessors, assessments, findings, evidence.
- CABs gain phone, email and website.
- Audit entries may name the ``bootstrap`` actor (``accredit staff add``).
- The database itself refuses what the views refuse: a decision by a case's
  assessor (triggers on both backends; the proposer is a CHECK), and any
  UPDATE or DELETE of the audit log. A later migration that rebuilds
  ``audit_log`` or ``case_file`` on SQLite (batch mode) must make these
  triggers again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ROLES = ("officer", "assessor", "decision_maker", "registrar", "auditor")
CASE_KINDS = (
    "initial",
    "extension",
    "reduction",
    "renewal",
    "suspension",
    "reinstatement",
    "withdrawal",
    "voluntary_withdrawal",
)
CASE_STATES = ("proposed", "in_assessment", "approved", "refused", "withdrawn")
RENAMED = {"approver": "decision_maker", "admin": "registrar"}
#: ``bootstrap`` is new: the staff commands run on the server (``accredit staff``).
ACTOR_KINDS = ("staff", "development", "system", "bootstrap")


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit log entries are never changed'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit log entries are never deleted'); END""",
    """CREATE TRIGGER case_decider_not_assessor BEFORE UPDATE OF decided_by_id ON case_file
    WHEN NEW.decided_by_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM case_assessor
        WHERE case_id = NEW.id AND staff_id = NEW.decided_by_id)
    BEGIN SELECT RAISE(ABORT, 'an assessor of a case cannot decide it'); END""",
    """CREATE TRIGGER case_assessor_not_decider BEFORE INSERT ON case_assessor
    WHEN EXISTS (
        SELECT 1 FROM case_file WHERE id = NEW.case_id AND decided_by_id = NEW.staff_id)
    BEGIN SELECT RAISE(ABORT, 'an assessor of a case cannot decide it'); END""",
]

POSTGRES_TRIGGERS = [
    """CREATE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit log entries are never changed or deleted'; END $$""",
    """CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_immutable()""",
    """CREATE FUNCTION case_independence() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'case_file' THEN
        IF NEW.decided_by_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM case_assessor
            WHERE case_id = NEW.id AND staff_id = NEW.decided_by_id) THEN
          RAISE EXCEPTION 'an assessor of a case cannot decide it';
        END IF;
      ELSIF EXISTS (
          SELECT 1 FROM case_file WHERE id = NEW.case_id AND decided_by_id = NEW.staff_id) THEN
        RAISE EXCEPTION 'an assessor of a case cannot decide it';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER case_decider_not_assessor BEFORE UPDATE OF decided_by_id ON case_file
    FOR EACH ROW EXECUTE FUNCTION case_independence()""",
    """CREATE TRIGGER case_assessor_not_decider BEFORE INSERT ON case_assessor
    FOR EACH ROW EXECUTE FUNCTION case_independence()""",
]


def upgrade() -> None:
    op.create_table(
        "staff_role_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("role", _enum("staff_role", ROLES), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_staff_role_grant_staff_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_role_grant_granted_by_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_role_grant_revoked_by_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_role_grant")),
    )
    op.create_index(
        "ix_staff_role_grant_staff_role", "staff_role_grant", ["staff_id", "role"], unique=False
    )
    connection = op.get_bind()
    staff = sa.table(
        "staff_user",
        sa.column("id", sa.Integer()),
        sa.column("role", sa.String()),
        sa.column("created_at", sa.DateTime()),
    )
    grants = sa.table(
        "staff_role_grant",
        sa.column("staff_id", sa.Integer()),
        sa.column("role", sa.String()),
        sa.column("granted_at", sa.DateTime()),
    )
    rows = [
        {"staff_id": i, "role": RENAMED.get(role, role), "granted_at": at}
        for i, role, at in connection.execute(
            sa.select(staff.c.id, staff.c.role, staff.c.created_at)
        )
    ]
    if rows:
        op.bulk_insert(grants, rows)

    with op.batch_alter_table("staff_user") as batch:
        batch.drop_constraint(op.f("ck_staff_user_staff_role"), type_="check")
        batch.drop_column("role")
        batch.add_column(sa.Column("totp_secret", sa.LargeBinary(length=64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_staff_session_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_staff_session_token_sha256")),
    )
    op.create_index(op.f("ix_staff_session_staff_id"), "staff_session", ["staff_id"], unique=False)
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    op.create_index("ix_login_attempt_email_at", "login_attempt", ["email", "at"], unique=False)
    op.create_index("ix_login_attempt_address_at", "login_attempt", ["address", "at"], unique=False)

    with op.batch_alter_table("cab") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("website", sa.String(length=300), nullable=True))

    op.create_table(
        "case_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("kind", _enum("case_kind", CASE_KINDS), nullable=False),
        sa.Column("state", _enum("case_state", CASE_STATES), nullable=False),
        sa.Column("cab_id", sa.Integer(), nullable=False),
        sa.Column("accreditation_id", sa.Integer(), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("reason_th", sa.Text(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note_en", sa.Text(), nullable=False),
        sa.Column("decision_note_th", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_event_id", sa.Integer(), nullable=True),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> proposed_by_id",
            name=op.f("ck_case_file_decider_is_not_proposer"),
        ),
        sa.CheckConstraint(
            "(decided_by_id IS NULL) = (decided_at IS NULL)",
            name=op.f("ck_case_file_decision_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["accreditation_id"],
            ["accreditation.id"],
            name=op.f("fk_case_file_accreditation_id_accreditation"),
        ),
        sa.ForeignKeyConstraint(["cab_id"], ["cab.id"], name=op.f("fk_case_file_cab_id_cab")),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
            name=op.f("fk_case_file_certificate_id_certificate"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["staff_user.id"], name=op.f("fk_case_file_decided_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["staff_user.id"],
            name=op.f("fk_case_file_proposed_by_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["status_event_id"],
            ["status_event.id"],
            name=op.f("fk_case_file_status_event_id_status_event"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_file")),
        sa.UniqueConstraint("number", name=op.f("uq_case_file_number")),
    )
    for column in ("accreditation_id", "cab_id", "state"):
        op.create_index(op.f(f"ix_case_file_{column}"), "case_file", [column], unique=False)
    op.create_table(
        "case_assessor",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["staff_user.id"], name=op.f("fk_case_assessor_added_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_case_assessor_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_case_assessor_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("case_id", "staff_id", name=op.f("pk_case_assessor")),
    )
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("mode", _enum("assessment_mode", ("remote", "on_site")), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_assessment_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_user.id"],
            name=op.f("fk_assessment_recorded_by_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
    )
    op.create_index(op.f("ix_assessment_case_id"), "assessment", ["case_id"], unique=False)
    op.create_table(
        "finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            _enum("finding_kind", ("major_nonconformity", "minor_nonconformity", "observation")),
            nullable=False,
        ),
        sa.Column("clause", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"], name=op.f("fk_finding_assessment_id_assessment")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_finding_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["staff_user.id"], name=op.f("fk_finding_closed_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_user.id"],
            name=op.f("fk_finding_recorded_by_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding")),
    )
    op.create_index(op.f("ix_finding_case_id"), "finding", ["case_id"], unique=False)
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_evidence_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["finding.id"], name=op.f("fk_evidence_finding_id_finding")
        ),
        sa.ForeignKeyConstraint(["sha256"], ["blob.sha256"], name=op.f("fk_evidence_sha256_blob")),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["staff_user.id"],
            name=op.f("fk_evidence_uploaded_by_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_index(op.f("ix_evidence_case_id"), "evidence", ["case_id"], unique=False)

    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("ck_audit_log_actor_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_audit_log_actor_kind"),
            "actor_kind IN (" + ", ".join(f"'{k}'" for k in ACTOR_KINDS) + ")",
        )

    for statement in SQLITE_TRIGGERS if connection.dialect.name == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for name in (
            "audit_log_no_update",
            "audit_log_no_delete",
            "case_decider_not_assessor",
            "case_assessor_not_decider",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_immutable ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_immutable()")
        op.execute("DROP TRIGGER IF EXISTS case_decider_not_assessor ON case_file")
        op.execute("DROP TRIGGER IF EXISTS case_assessor_not_decider ON case_assessor")
        op.execute("DROP FUNCTION IF EXISTS case_independence()")
    for table in ("evidence", "finding", "assessment", "case_assessor", "case_file"):
        op.drop_table(table)
    op.execute("UPDATE audit_log SET actor_kind = 'system' WHERE actor_kind = 'bootstrap'")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("ck_audit_log_actor_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_audit_log_actor_kind"), "actor_kind IN ('staff', 'development', 'system')"
        )
    with op.batch_alter_table("cab") as batch:
        batch.drop_column("website")
        batch.drop_column("email")
        batch.drop_column("phone")
    op.drop_table("login_attempt")
    op.drop_table("staff_session")
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("disabled_at")
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
        batch.add_column(sa.Column("role", sa.String(length=32), nullable=True))
    staff = sa.table("staff_user", sa.column("id", sa.Integer()), sa.column("role", sa.String()))
    grants = sa.table(
        "staff_role_grant", sa.column("staff_id", sa.Integer()), sa.column("role", sa.String())
    )
    back = {v: k for k, v in RENAMED.items()}
    for staff_id, role in connection.execute(sa.select(grants.c.staff_id, grants.c.role)):
        role = back.get(role, role) if role in back else "officer"
        connection.execute(sa.update(staff).where(staff.c.id == staff_id).values(role=role))
    with op.batch_alter_table("staff_user") as batch:
        batch.alter_column("role", existing_type=sa.String(length=32), nullable=False)
        batch.create_check_constraint(
            op.f("ck_staff_user_staff_role"), "role IN ('officer', 'approver', 'admin')"
        )
    op.drop_index("ix_staff_role_grant_staff_role", table_name="staff_role_grant")
    op.drop_table("staff_role_grant")
