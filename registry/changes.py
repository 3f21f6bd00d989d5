"""The one write path: every change that matters is recorded here, in the caller's transaction.

A decision, an issuance, an LTA refresh, a demo load and the daily calendar
tick each make their own rows, then call ``record`` once. It writes

- the audit entry, naming who acted and who approved;
- the register version bump, which every cache is keyed on;
- the reindex of the accreditations the change touched.

All three land or none does: they share the caller's transaction, so its
rollback undoes the change and its bookkeeping together. A public fact also
appends its leaf to the transparency log here, in the same transaction; the
alert outbox will join it here, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, enum_column, utcnow
from .log import leaves, store
from .search.index import reindex
from .version import bump, lock


class ChangeRefused(ValueError):
    """The change cannot be recorded as described; the message says why."""


class ActorKind(StrEnum):
    #: A member of staff, by account.
    STAFF = "staff"
    #: A development instance's own tools (``accredit init --demo``, ``accredit issue``).
    DEVELOPMENT = "development"
    #: The register itself, on a schedule (the calendar tick).
    SYSTEM = "system"
    #: Whoever runs the staff bootstrap commands on the server (``accredit staff``).
    BOOTSTRAP = "bootstrap"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    staff_id: int | None = None

    def __post_init__(self) -> None:
        if (self.kind is ActorKind.STAFF) != (self.staff_id is not None):
            raise ChangeRefused("a staff actor names its account, and only a staff actor does")

    @classmethod
    def staff(cls, staff_id: int) -> Actor:
        return cls(ActorKind.STAFF, staff_id)


DEVELOPMENT = Actor(ActorKind.DEVELOPMENT)
SYSTEM = Actor(ActorKind.SYSTEM)
BOOTSTRAP = Actor(ActorKind.BOOTSTRAP)


@dataclass(frozen=True)
class Change:
    """What happened, who did it, and which accreditations it touched."""

    #: ``<target type>.<verb>``, for example ``accreditation.suspended``.
    action: str
    target_type: str
    target_id: str
    actor: Actor
    #: The second person of a four-eyes act.
    approver: Actor | None = None
    #: Accreditations whose public answer may differ now; ``None`` means all of them.
    accreditations: Collection[int] | None = frozenset()
    detail: Mapping[str, Any] = field(default_factory=dict)
    #: False for what the public never sees (a proposal, an account, a finding):
    #: audited, but no version bump, so no public cache is thrown away.
    public: bool = True
    #: The public fact for the transparency log (``log.leaves``), when there is one.
    leaf: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.approver is not None:
            if self.approver.kind is not ActorKind.STAFF:
                raise ChangeRefused("only a member of staff can approve")
            if self.approver == self.actor:
                raise ChangeRefused("a change must be approved by someone other than its author")


class AuditEntry(Base):
    """Who did what, when, approved by whom. Written in the same transaction as the change."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(
            "(actor_kind = 'staff') = (actor_id IS NOT NULL)", name="staff_actor_named"
        ),
        CheckConstraint(
            "approver_id IS NULL OR actor_id IS NULL OR approver_id <> actor_id",
            name="four_eyes",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, "actor_kind"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(session: Session, change: Change, now: datetime) -> AuditEntry:
    """Record ``change`` inside the caller's transaction; return its audit entry.

    A change with a ``leaf`` appends it to the transparency log in the same
    transaction; its index is in the audit entry's ``detail["log_index"]``.
    """
    session.flush()
    detail = dict(change.detail)
    if change.leaf is not None:
        lock(session)  # leaf indexes are allocated in order, one writer at a time
        fact = {**change.leaf, "at": leaves.instant(now)}
        detail["log_index"] = store.append(session, str(fact["type"]), leaves.encode(fact), now)
    entry = AuditEntry(
        at=now,
        actor_kind=change.actor.kind,
        actor_id=change.actor.staff_id,
        approver_id=change.approver.staff_id if change.approver else None,
        action=change.action,
        target_type=change.target_type,
        target_id=change.target_id,
        detail=detail,
    )
    session.add(entry)
    if change.public:
        version = bump(session, now)
        ids = None if change.accreditations is None else sorted(set(change.accreditations))
        reindex(session, now, version, ids)
    session.flush()
    return entry
