"""Cases: every legal act, from its proposal to its decision and effect.

A case is proposed by one person, assessed where the act needs it, and
decided by another person who neither proposed nor assessed it; the database
refuses the other outcomes too (migration 0005's triggers). Nothing public
changes until a case is approved: then its effect (a status event, a scope
change) and the certificate revision it implies are recorded together.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..certificates.models import Certificate
from ..db import Base, enum_column, utcnow
from ..register.models import Accreditation, Cab, StatusEvent
from ..staff.models import StaffUser


class CaseKind(StrEnum):
    INITIAL = "initial"
    EXTENSION = "extension"
    REDUCTION = "reduction"
    RENEWAL = "renewal"
    SUSPENSION = "suspension"
    REINSTATEMENT = "reinstatement"
    WITHDRAWAL = "withdrawal"
    VOLUNTARY_WITHDRAWAL = "voluntary_withdrawal"


#: Acts that need an assessment before they can be approved.
ASSESSED_KINDS = frozenset({CaseKind.INITIAL, CaseKind.EXTENSION, CaseKind.RENEWAL})
#: Acts that change what the certificate says: approving one issues a new revision.
REISSUING_KINDS = frozenset(
    {CaseKind.INITIAL, CaseKind.EXTENSION, CaseKind.REDUCTION, CaseKind.RENEWAL}
)


class CaseState(StrEnum):
    PROPOSED = "proposed"
    IN_ASSESSMENT = "in_assessment"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


OPEN_STATES = frozenset({CaseState.PROPOSED, CaseState.IN_ASSESSMENT})


class AssessmentMode(StrEnum):
    REMOTE = "remote"
    ON_SITE = "on_site"


class FindingKind(StrEnum):
    MAJOR = "major_nonconformity"
    MINOR = "minor_nonconformity"
    OBSERVATION = "observation"


class Case(Base):
    __tablename__ = "case_file"
    __table_args__ = (
        CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> proposed_by_id",
            name="decider_is_not_proposer",
        ),
        CheckConstraint("(decided_by_id IS NULL) = (decided_at IS NULL)", name="decision_complete"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[CaseKind] = mapped_column(enum_column(CaseKind, "case_kind"))
    state: Mapped[CaseState] = mapped_column(enum_column(CaseState, "case_state"), index=True)
    cab_id: Mapped[int] = mapped_column(ForeignKey("cab.id"), index=True)
    #: None for an initial accreditation until it is approved.
    accreditation_id: Mapped[int | None] = mapped_column(ForeignKey("accreditation.id"), index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Why the act is proposed, in both languages (shown publicly once approved).
    reason_en: Mapped[str] = mapped_column(Text, default="")
    reason_th: Mapped[str] = mapped_column(Text, default="")
    effective_date: Mapped[date] = mapped_column(Date)
    #: A suspension's last day.
    end_date: Mapped[date | None] = mapped_column(Date)
    #: What the act is about: scope items, the scope change, a new cycle (per kind).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    decided_at: Mapped[datetime | None]
    decision_note_en: Mapped[str] = mapped_column(Text, default="")
    decision_note_th: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None]
    status_event_id: Mapped[int | None] = mapped_column(ForeignKey("status_event.id"))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))

    cab: Mapped[Cab] = relationship()
    accreditation: Mapped[Accreditation | None] = relationship()
    proposed_by: Mapped[StaffUser] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[StaffUser | None] = relationship(foreign_keys=[decided_by_id])
    status_event: Mapped[StatusEvent | None] = relationship()
    certificate: Mapped[Certificate | None] = relationship()
    assessors: Mapped[list[CaseAssessor]] = relationship(
        back_populates="case", order_by="CaseAssessor.added_at"
    )
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="case", order_by="Assessment.id"
    )
    findings: Mapped[list[Finding]] = relationship(back_populates="case", order_by="Finding.id")
    evidence: Mapped[list[Evidence]] = relationship(back_populates="case", order_by="Evidence.id")

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def assessor_ids(self) -> frozenset[int]:
        return frozenset(a.staff_id for a in self.assessors)


class CaseAssessor(Base):
    """A person recorded as an assessor of a case: they can never decide it."""

    __tablename__ = "case_assessor"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("case_file.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))

    case: Mapped[Case] = relationship(back_populates="assessors")
    staff: Mapped[StaffUser] = relationship(foreign_keys=[staff_id])


class Assessment(Base):
    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    mode: Mapped[AssessmentMode] = mapped_column(enum_column(AssessmentMode, "assessment_mode"))
    held_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="assessments")
    recorded_by: Mapped[StaffUser] = relationship()


class Finding(Base):
    """A nonconformity or observation, with its due date and the CAB's response."""

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"))
    kind: Mapped[FindingKind] = mapped_column(enum_column(FindingKind, "finding_kind"))
    clause: Mapped[str] = mapped_column(String(40), default="")
    text: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    response: Mapped[str] = mapped_column(Text, default="")
    responded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="findings")

    @property
    def open(self) -> bool:
        return self.closed_at is None and self.kind is not FindingKind.OBSERVATION


class Evidence(Base):
    """A file for a case, kept by SHA-256 in the blob store and never served publicly."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("finding.id"))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="evidence")
