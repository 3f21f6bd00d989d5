"""Derived status for many accreditations at once, from four lean queries.

Loading ORM objects for a whole register (a hundred thousand accreditations,
a million scope items) costs most of a minute; these column queries feed
``status.derive`` the same facts in a few seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .models import Accreditation, ScopeItem, StatusEvent, status_event_item
from .status import Event, Reason, Standing, derive


def _restrict(query: Select, column: object, ids: Collection[int] | None) -> Select:
    return query if ids is None else query.where(column.in_(ids))  # type: ignore[attr-defined]


def standings(
    session: Session, at: datetime, accreditation_ids: Collection[int] | None = None
) -> dict[int, Standing]:
    """Each accreditation's standing at ``at``; all of them when ids is None."""
    ids = None if accreditation_ids is None else list(accreditation_ids)
    cycles: dict[int, date] = dict(
        session.execute(
            _restrict(select(Accreditation.id, Accreditation.valid_until), Accreditation.id, ids)
        ).all()
    )
    items: dict[int, list[int]] = defaultdict(list)
    for item_id, acc_id in session.execute(
        _restrict(select(ScopeItem.id, ScopeItem.accreditation_id), ScopeItem.accreditation_id, ids)
    ):
        items[acc_id].append(item_id)

    approved = StatusEvent.approved_by_id.is_not(None)
    event_items: dict[int, set[int]] = defaultdict(set)
    for event_id, item_id in session.execute(
        _restrict(
            select(status_event_item.c.event_id, status_event_item.c.scope_item_id)
            .join(StatusEvent, StatusEvent.id == status_event_item.c.event_id)
            .where(approved),
            StatusEvent.accreditation_id,
            ids,
        )
    ):
        event_items[event_id].add(item_id)

    events: dict[int, list[Event]] = defaultdict(list)
    for row in session.execute(
        _restrict(
            select(
                StatusEvent.id,
                StatusEvent.accreditation_id,
                StatusEvent.kind,
                StatusEvent.effective_date,
                StatusEvent.end_date,
                StatusEvent.reason_en,
                StatusEvent.reason_th,
            ).where(approved),
            StatusEvent.accreditation_id,
            ids,
        )
    ):
        event_id, acc_id, kind, effective, end, reason_en, reason_th = row
        events[acc_id].append(
            Event(
                kind=kind,
                effective=effective,
                until=end,
                items=frozenset(event_items.get(event_id, ())),
                reason=Reason(reason_en, reason_th) if reason_en or reason_th else None,
                seq=event_id,
            )
        )
    return {
        acc_id: derive(events[acc_id], valid_until=until, scope_items=items[acc_id], at=at)
        for acc_id, until in cycles.items()
    }
