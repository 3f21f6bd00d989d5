"""The register's facts: bodies, their sites, accreditations, scope and status events.

Status is not a column: it is derived from approved events (see ``status.py``).
Timestamps are stored and returned in UTC; naive datetimes are refused. Issued
certificates live in ``certificates.models`` and point here, never the reverse.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, enum_column, utcnow
from ..staff.models import StaffUser
from .programmes import Programme
from .status import EventKind


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Cab(Timestamped, Base):
    """A conformity assessment body: a laboratory, inspection or certification body."""

    __tablename__ = "cab"
    __table_args__ = (CheckConstraint("length(national_id) = 13", name="national_id_13_digits"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    national_id: Mapped[str] = mapped_column(String(13), unique=True)
    name_th: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    #: How the public reaches the body (its sites hold the addresses).
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))

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
    #: Its leaf in the transparency log, once approved.
    log_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)

    accreditation: Mapped[Accreditation] = relationship(back_populates="events")
    items: Mapped[list[ScopeItem]] = relationship(secondary=status_event_item)
    proposed_by: Mapped[StaffUser] = relationship(foreign_keys=[proposed_by_id])
    approved_by: Mapped[StaffUser | None] = relationship(foreign_keys=[approved_by_id])
