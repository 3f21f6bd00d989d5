"""Recording status decisions: proposed by one person, approved by another.

A decision is a legal act. It is recorded through ``changes.record`` in the
caller's transaction, with its audit entry naming both people; the caller's
rollback undoes all of it. Approval by the proposer is refused here, by
``changes``, and again by the database's ``four_eyes`` checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from .. import changes, version
from ..changes import Actor, Change
from ..log import leaves
from ..register.models import Accreditation, ScopeItem, StatusEvent
from ..register.shapes import scope_line
from ..register.status import ITEM_KINDS_REQUIRED, Event, EventKind
from ..staff.models import StaffUser


class DecisionRefused(Exception):
    """The decision cannot be recorded as asked; the message says why."""


def record(
    session: Session,
    accreditation: Accreditation,
    kind: EventKind,
    effective: date,
    *,
    proposed_by: StaffUser,
    approved_by: StaffUser,
    reason_en: str,
    reason_th: str = "",
    items: Sequence[ScopeItem] = (),
    until: date | None = None,
    now: datetime | None = None,
) -> StatusEvent:
    """Record an approved status event for ``accreditation``."""
    now = now or datetime.now(UTC)
    version.lock(session)
    if approved_by.id == proposed_by.id:
        raise DecisionRefused("a decision must be approved by someone other than its proposer")
    foreign = [i for i in items if i.accreditation_id != accreditation.id]
    if foreign:
        raise DecisionRefused("scope items of another accreditation cannot be part of it")
    try:
        Event(kind, effective, until, frozenset(i.id for i in items))
    except ValueError as exc:
        raise DecisionRefused(str(exc)) from exc
    event = StatusEvent(
        accreditation=accreditation,
        kind=kind,
        effective_date=effective,
        end_date=until,
        reason_en=reason_en,
        reason_th=reason_th,
        proposed_by=proposed_by,
        approved_by=approved_by,
        proposed_at=now,
        approved_at=now,
        items=list(items),
    )
    session.add(event)
    session.flush()
    recorded = changes.record(
        session,
        Change(
            action=f"accreditation.{kind.value}",
            target_type="accreditation",
            target_id=accreditation.number,
            actor=Actor.staff(proposed_by.id),
            approver=Actor.staff(approved_by.id),
            accreditations={accreditation.id},
            detail={
                "effective": effective.isoformat(),
                "until": until.isoformat() if until else None,
                "items": sorted(i.id for i in items),
                "reason_en": reason_en,
                "reason_th": reason_th,
            },
            leaf=leaves.status_decided(
                event=event.id,
                accreditation=accreditation.number,
                kind=kind.value,
                items=(i.id for i in items),
                effective=effective,
                until=until,
                reason_en=reason_en,
                reason_th=reason_th,
                scope=[scope_line(i) for i in items] if kind in ITEM_KINDS_REQUIRED else (),
            ),
        ),
        now,
    )
    event.log_index = recorded.detail["log_index"]
    return event
