"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 15:51:43.729107
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "blob",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_blob_sha256_hex")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blob")),
    )
    op.create_table(
        "cab",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("national_id", sa.String(length=13), nullable=False),
        sa.Column("name_th", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(national_id) = 13", name=op.f("ck_cab_national_id_13_digits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cab")),
        sa.UniqueConstraint("national_id", name=op.f("uq_cab_national_id")),
    )
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "officer",
                "approver",
                "admin",
                name="staff_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_user_email")),
    )
    op.create_table(
        "accreditation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("cab_id", sa.Integer(), nullable=False),
        sa.Column(
            "programme",
            sa.Enum(
                "testing",
                "calibration",
                "medical",
                "inspection",
                "management_systems",
                "product_certification",
                "persons_certification",
                "proficiency_testing",
                "reference_materials",
                name="programme",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("standard", sa.String(length=60), nullable=False),
        sa.Column("first_granted", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "valid_from >= first_granted", name=op.f("ck_accreditation_cycle_after_first_grant")
        ),
        sa.CheckConstraint(
            "valid_until >= valid_from", name=op.f("ck_accreditation_cycle_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["cab_id"], ["cab.id"], name=op.f("fk_accreditation_cab_id_cab"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditation")),
        sa.UniqueConstraint("number", name=op.f("uq_accreditation_number")),
    )
    with op.batch_alter_table("accreditation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accreditation_cab_id"), ["cab_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff_user.id"], name=op.f("fk_audit_log_actor_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cab_id", sa.Integer(), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("name_th", sa.String(length=200), nullable=False),
        sa.Column("address_en", sa.String(length=500), nullable=False),
        sa.Column("address_th", sa.String(length=500), nullable=False),
        sa.Column("province_en", sa.String(length=100), nullable=True),
        sa.Column("province_th", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.CheckConstraint("length(country) = 2", name=op.f("ck_site_country_alpha2")),
        sa.ForeignKeyConstraint(
            ["cab_id"], ["cab.id"], name=op.f("fk_site_cab_id_cab"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
    )
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_cab_id"), ["cab_id"], unique=False)

    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("accreditation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signer_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("qr_url", sa.Text(), nullable=True),
        sa.Column("status_list_index", sa.Integer(), nullable=True),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_certificate_sha256_hex")),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_certificate_revision_positive")),
        sa.ForeignKeyConstraint(
            ["accreditation_id"],
            ["accreditation.id"],
            name=op.f("fk_certificate_accreditation_id_accreditation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["blob.sha256"], name=op.f("fk_certificate_sha256_blob")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["certificate.id"],
            name=op.f("fk_certificate_superseded_by_id_certificate"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint(
            "accreditation_id", "revision", name=op.f("uq_certificate_accreditation_id")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_certificate_number")),
        sa.UniqueConstraint("sha256", name=op.f("uq_certificate_sha256")),
        sa.UniqueConstraint("status_list_index", name=op.f("uq_certificate_status_list_index")),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_accreditation_id"), ["accreditation_id"], unique=False
        )

    op.create_table(
        "scope_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("accreditation_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("field_en", sa.String(length=200), nullable=False),
        sa.Column("field_th", sa.String(length=200), nullable=False),
        sa.Column("product_en", sa.String(length=300), nullable=False),
        sa.Column("product_th", sa.String(length=300), nullable=False),
        sa.Column("parameter_en", sa.String(length=300), nullable=False),
        sa.Column("parameter_th", sa.String(length=300), nullable=False),
        sa.Column("method", sa.String(length=300), nullable=False),
        sa.Column("range_text", sa.String(length=200), nullable=True),
        sa.Column("cmc_text", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["accreditation_id"],
            ["accreditation.id"],
            name=op.f("fk_scope_item_accreditation_id_accreditation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_scope_item_site_id_site"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scope_item")),
    )
    with op.batch_alter_table("scope_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scope_item_accreditation_id"), ["accreditation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_scope_item_site_id"), ["site_id"], unique=False)

    op.create_table(
        "status_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("accreditation_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "granted",
                "renewed",
                "extended",
                "reduced",
                "suspended",
                "reinstated",
                "withdrawn",
                "voluntarily_withdrawn",
                name="event_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("reason_th", sa.Text(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "end_date IS NULL OR (kind = 'suspended' AND end_date >= effective_date)",
            name=op.f("ck_status_event_end_date_only_on_suspension"),
        ),
        sa.CheckConstraint(
            "(approved_by_id IS NULL) = (approved_at IS NULL)",
            name=op.f("ck_status_event_approval_complete"),
        ),
        sa.CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> proposed_by_id",
            name=op.f("ck_status_event_four_eyes"),
        ),
        sa.ForeignKeyConstraint(
            ["accreditation_id"],
            ["accreditation.id"],
            name=op.f("fk_status_event_accreditation_id_accreditation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["staff_user.id"],
            name=op.f("fk_status_event_approved_by_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["staff_user.id"],
            name=op.f("fk_status_event_proposed_by_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_event")),
    )
    with op.batch_alter_table("status_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_event_accreditation_id"), ["accreditation_id"], unique=False
        )

    op.create_table(
        "status_event_item",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("scope_item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["status_event.id"],
            name=op.f("fk_status_event_item_event_id_status_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scope_item_id"],
            ["scope_item.id"],
            name=op.f("fk_status_event_item_scope_item_id_scope_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "scope_item_id", name=op.f("pk_status_event_item")),
    )
    with op.batch_alter_table("status_event_item", schema=None) as batch_op:
        batch_op.create_index("ix_status_event_item_scope_item_id", ["scope_item_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("status_event_item", schema=None) as batch_op:
        batch_op.drop_index("ix_status_event_item_scope_item_id")

    op.drop_table("status_event_item")
    with op.batch_alter_table("status_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_event_accreditation_id"))

    op.drop_table("status_event")
    with op.batch_alter_table("scope_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scope_item_site_id"))
        batch_op.drop_index(batch_op.f("ix_scope_item_accreditation_id"))

    op.drop_table("scope_item")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_accreditation_id"))

    op.drop_table("certificate")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_cab_id"))

    op.drop_table("site")
    op.drop_table("audit_log")
    with op.batch_alter_table("accreditation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accreditation_cab_id"))

    op.drop_table("accreditation")
    op.drop_table("staff_user")
    op.drop_table("cab")
    op.drop_table("blob")
