"""The register's data model: SQLAlchemy 2.0 typed ORM, without Flask.

Status is not a column: it is derived from approved events (see ``status.py``).
Timestamps are stored and returned in UTC; naive datetimes are refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .programmes import Programme
from .status import EventKind

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given; the register stores UTC instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A portable enum: VARCHAR plus a CHECK constraint, storing the values."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StaffRole(StrEnum):
    OFFICER = "officer"  # proposes
    APPROVER = "approver"  # approves what another proposed
    ADMIN = "admin"


class Cab(Timestamped, Base):
    """A conformity assessment body: a laboratory, inspection or certification body."""

    __tablename__ = "cab"
    __table_args__ = (CheckConstraint("length(national_id) = 13", name="national_id_13_digits"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    national_id: Mapped[str] = mapped_column(String(13), unique=True)
    name_th: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))

    sites: Mapped[list[Site]] = relationship(back_populates="cab", order_by="Site.id")
    accreditations: Mapped[list[Accreditation]] = relationship(
        back_populates="cab", order_by="Accreditation.id"
    )


class Site(Base):
    """An address where the CAB works; scope is granted per site."""

    __tablename__ = "site"
    __table_args__ = (CheckConstraint("length(country) = 2", name="country_alpha2"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cab_id: Mapped[int] = mapped_column(ForeignKey("cab.id", ondelete="CASCADE"), index=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_th: Mapped[str] = mapped_column(String(200))
    address_en: Mapped[str] = mapped_column(String(500))
    address_th: Mapped[str] = mapped_column(String(500))
    province_en: Mapped[str | None] = mapped_column(String(100))
    province_th: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="TH")

    cab: Mapped[Cab] = relationship(back_populates="sites")


class Accreditation(Timestamped, Base):
    """The agency's decision that a CAB is competent for a scope, over a cycle."""

    __tablename__ = "accreditation"
    __table_args__ = (
        CheckConstraint("valid_until >= valid_from", name="cycle_ends_after_start"),
        CheckConstraint("valid_from >= first_granted", name="cycle_after_first_grant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    cab_id: Mapped[int] = mapped_column(ForeignKey("cab.id", ondelete="RESTRICT"), index=True)
    programme: Mapped[Programme] = mapped_column(enum_column(Programme, "programme"))
    standard: Mapped[str] = mapped_column(String(60))
    first_granted: Mapped[date] = mapped_column(Date)
    #: The current cycle; a renewal moves both.
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)

    cab: Mapped[Cab] = relationship(back_populates="accreditations")
    scope_items: Mapped[list[ScopeItem]] = relationship(
        back_populates="accreditation", order_by="ScopeItem.id"
    )
    events: Mapped[list[StatusEvent]] = relationship(
        back_populates="accreditation", order_by="(StatusEvent.effective_date, StatusEvent.id)"
    )
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="accreditation",
        order_by="Certificate.revision",
        foreign_keys="Certificate.accreditation_id",
    )


class ScopeItem(Base):
    """One line of scope: what is tested or calibrated, how, and where.

    An item's own status (active, suspended, withdrawn) is derived like the
    accreditation's, from the events that name it (``status_event_item``).
    """

    __tablename__ = "scope_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    accreditation_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"), index=True)
    field_en: Mapped[str] = mapped_column(String(200))
    field_th: Mapped[str] = mapped_column(String(200))
    product_en: Mapped[str] = mapped_column(String(300))
    product_th: Mapped[str] = mapped_column(String(300))
    #: The test, parameter or (for calibration) measurand.
    parameter_en: Mapped[str] = mapped_column(String(300))
    parameter_th: Mapped[str] = mapped_column(String(300))
    method: Mapped[str] = mapped_column(String(300))
    #: Calibration only: the range and the CMC (expanded uncertainty).
    range_text: Mapped[str | None] = mapped_column(String(200))
    cmc_text: Mapped[str | None] = mapped_column(String(200))

    accreditation: Mapped[Accreditation] = relationship(back_populates="scope_items")
    site: Mapped[Site] = relationship()


status_event_item = Table(
    "status_event_item",
    Base.metadata,
    Column("event_id", ForeignKey("status_event.id", ondelete="CASCADE"), primary_key=True),
    Column("scope_item_id", ForeignKey("scope_item.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_status_event_item_scope_item_id", "scope_item_id"),
)


class StatusEvent(Base):
    """A dated decision about an accreditation. Public once approved."""

    __tablename__ = "status_event"
    __table_args__ = (
        CheckConstraint(
            "end_date IS NULL OR (kind = 'suspended' AND end_date >= effective_date)",
            name="end_date_only_on_suspension",
        ),
        CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> proposed_by_id", name="four_eyes"
        ),
        CheckConstraint(
            "(approved_by_id IS NULL) = (approved_at IS NULL)", name="approval_complete"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    accreditation_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "event_kind"))
    effective_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    reason_en: Mapped[str] = mapped_column(Text, default="")
    reason_th: Mapped[str] = mapped_column(Text, default="")
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None]

    accreditation: Mapped[Accreditation] = relationship(back_populates="events")
    items: Mapped[list[ScopeItem]] = relationship(secondary=status_event_item)
    proposed_by: Mapped[StaffUser] = relationship(foreign_keys=[proposed_by_id])
    approved_by: Mapped[StaffUser | None] = relationship(foreign_keys=[approved_by_id])


class Blob(Base):
    """Immutable content addressed by its SHA-256 (issued PDFs)."""

    __tablename__ = "blob"
    __table_args__ = (CheckConstraint("length(sha256) = 64", name="sha256_hex"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Certificate(Base):
    """One signed revision of an accreditation certificate. Never edited."""

    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("accreditation_id", "revision"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_hex"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    accreditation_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[str] = mapped_column(String(60), unique=True)
    revision: Mapped[int] = mapped_column(Integer)
    #: The file as issued and signed. Verification binds to it for ever.
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"), unique=True)
    #: The copy the registry serves, after LTA refreshes (None: the original).
    served_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    #: SHA-256 of the signing certificate (DER), hex.
    signer_fingerprint: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    qr_url: Mapped[str | None] = mapped_column(Text)
    status_list_index: Mapped[int | None] = mapped_column(Integer, unique=True)

    accreditation: Mapped[Accreditation] = relationship(
        back_populates="certificates", foreign_keys=[accreditation_id]
    )
    superseded_by: Mapped[Certificate | None] = relationship(remote_side=[id])

    @property
    def current_sha256(self) -> str:
        """The file to serve: the latest LTA-refreshed copy, or the original."""
        return self.served_sha256 or self.sha256


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole, "staff_role"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who did what, when. Written in the same transaction as the change."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[StaffUser | None] = relationship()


class RegisterState(Base):
    """One row: a version bumped by every change the public can see.

    Cached pages, ETags and the status list are keyed on it (with the Bangkok
    date, since expiry is derived from dates), so a change is never served stale.
    """

    __tablename__ = "register_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchEntry(Base):
    """What search reads: one row per accreditation, denormalised.

    ``body`` is the folded text that search matches: names, numbers and the
    distinct products, tests and methods of the scope; its words go to
    ``search_word``. ``status`` is stored so that it can be filtered and
    counted, and re-derived on ``recheck_on``, the next day it could change
    without any decision (expiry, end of a suspension, an event that takes
    effect later). ``version`` is the register version that wrote the row, so
    a search process can pick up just the rows changed since it last looked.
    """

    __tablename__ = "search_entry"

    accreditation_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation.id", ondelete="CASCADE"), primary_key=True
    )
    cab_id: Mapped[int] = mapped_column(ForeignKey("cab.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(300))
    name_th: Mapped[str] = mapped_column(String(300))
    programme: Mapped[str] = mapped_column(String(32), index=True)
    standard: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(32), index=True)
    valid_until: Mapped[date] = mapped_column(Date)
    recheck_on: Mapped[date | None] = mapped_column(Date, index=True)
    places_en: Mapped[str] = mapped_column(String(500))
    places_th: Mapped[str] = mapped_column(String(500))
    #: Folded (lower-case) names: ranks a name match above a scope match.
    names: Mapped[str] = mapped_column(String(700))
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, index=True)


class SearchFacet(Base):
    """Multi-valued facets of a search entry: its fields and its places."""

    __tablename__ = "search_facet"

    accreditation_id: Mapped[int] = mapped_column(
        ForeignKey("search_entry.accreditation_id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    label_th: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_search_facet_lookup", "facet", "value", "accreditation_id"),)


class SearchWord(Base):
    """Every distinct word of every entry's body: what the trigram indexes cover.

    SQLite indexes it with the FTS5 table ``search_word_fts`` (trigram
    tokenizer), PostgreSQL with the ``pg_trgm`` GIN index ``ix_search_word_trgm``;
    both are made by migration 0003. Words are never deleted: a word no entry
    uses any more simply matches nothing.
    """

    __tablename__ = "search_word"

    word: Mapped[str] = mapped_column(String(300), primary_key=True)


#: Backend-specific search structures made by migration 0003, not by the models.
SEARCH_INDEX_OBJECTS = ("search_word_fts", "ix_search_word_trgm")
