"""Public status, derived from an accreditation's approved events.

Status is never stored: it is a pure function of the event history, the
current cycle's end date and the moment asked about. Dates in the register are
Thai calendar days, so every comparison happens on the date in Asia/Bangkok:
an accreditation valid until 31 March is valid until 23:59:59 that day in
Bangkok, and expired from midnight.

Rules, in the order they win:

1. withdrawn (by the agency or voluntarily) is final, whatever the dates say,
   even for a grant whose cycle has not started; a body accredited again gets
   a new accreditation number;
2. expired, when the Bangkok date is past ``valid_until``;
3. suspended, when the whole accreditation is suspended, or when every item
   still in scope is;
4. partially suspended, when some items in scope are suspended;
5. valid.

Before the grant takes effect the accreditation is ``pending``, which is not a
public status. Suspension end dates (``until``) are inclusive.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from verifier.report import CertificateStatus

from ..dates import local_date


class EventKind(StrEnum):
    GRANTED = "granted"
    RENEWED = "renewed"
    EXTENDED = "extended"
    REDUCED = "reduced"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    WITHDRAWN = "withdrawn"
    VOLUNTARILY_WITHDRAWN = "voluntarily_withdrawn"


class AccreditationStatus(StrEnum):
    PENDING = "pending"
    VALID = "valid"
    SUSPENDED = "suspended"
    PARTIALLY_SUSPENDED = "partially_suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


#: The statuses the public sees; ``pending`` never appears in the register.
PUBLIC_STATUSES: tuple[AccreditationStatus, ...] = (
    AccreditationStatus.VALID,
    AccreditationStatus.SUSPENDED,
    AccreditationStatus.PARTIALLY_SUSPENDED,
    AccreditationStatus.WITHDRAWN,
    AccreditationStatus.EXPIRED,
)


class ItemState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    #: Only in ``Standing.public_items``: a line of an accreditation whose cycle has ended.
    EXPIRED = "expired"


#: A certificate document's status; the verifier's codes, defined once there.
DocumentStatus = CertificateStatus


#: Kinds that must name the scope items they affect.
ITEM_KINDS_REQUIRED = frozenset({EventKind.EXTENDED, EventKind.REDUCED})
#: Kinds that may name scope items (partial suspension and its reinstatement).
ITEM_KINDS_OPTIONAL = frozenset({EventKind.SUSPENDED, EventKind.REINSTATED})
WITHDRAWAL_KINDS = frozenset({EventKind.WITHDRAWN, EventKind.VOLUNTARILY_WITHDRAWN})


class Reason(str):
    """A decision's reason: the English text, carrying its Thai wording along."""

    th: str

    def __new__(cls, en: str, th: str = "") -> Reason:
        reason = super().__new__(cls, en or th)
        reason.th = th or en
        return reason


@dataclass(frozen=True)
class Event:
    """One approved status event, as the derivation needs it."""

    kind: EventKind
    effective: date
    #: Last day of a suspension (inclusive); only for ``suspended``.
    until: date | None = None
    #: Scope items affected; empty means the whole accreditation.
    items: frozenset[int] = frozenset()
    reason: str | None = None
    #: Tie-breaker for events on the same day (the database id).
    seq: int = 0

    def __post_init__(self) -> None:
        if self.kind in ITEM_KINDS_REQUIRED and not self.items:
            raise ValueError(f"a '{self.kind}' event must name the scope items it affects")
        if self.items and self.kind not in ITEM_KINDS_REQUIRED | ITEM_KINDS_OPTIONAL:
            raise ValueError(f"a '{self.kind}' event applies to the whole accreditation")
        if self.until is not None:
            if self.kind is not EventKind.SUSPENDED:
                raise ValueError("only a suspension has an end date")
            if self.until < self.effective:
                raise ValueError("a suspension cannot end before it starts")


@dataclass(frozen=True)
class Standing:
    """What the register says about an accreditation at one moment, and why."""

    status: AccreditationStatus
    #: The day the current status took effect (for expiry: the first expired day).
    since: date | None
    #: For a suspension with an end date: its last day.
    until: date | None
    #: The reason recorded on the event that set the status.
    reason: str | None
    #: Each scope item's state at that moment.
    items: Mapping[int, ItemState] = field(default_factory=dict)
    #: The Bangkok calendar day the answer is for.
    as_of: date | None = None
    #: Each suspended item's suspension: its first day and its last (None: until lifted).
    suspensions: Mapping[int, tuple[date, date | None]] = field(default_factory=dict)

    @property
    def suspended_items(self) -> frozenset[int]:
        return frozenset(i for i, s in self.items.items() if s is ItemState.SUSPENDED)

    @property
    def public_items(self) -> Mapping[int, ItemState]:
        """Each item's state as the public reads it, bounded by the accreditation's own.

        ``items`` holds what the events did to each line, which the office
        needs (what a reinstatement lifts, what a reduction removes). A reader
        of open data must never see a line ``active`` under an accreditation
        that is withdrawn, expired or suspended as a whole, so the
        accreditation's status caps the line's: withdrawn makes every line
        withdrawn, expired makes lines still in scope expired, a whole
        suspension suspends the active ones. Lines not yet in scope stay pending.
        """
        status = self.status
        if status is AccreditationStatus.WITHDRAWN:
            cap = {ItemState.ACTIVE: ItemState.WITHDRAWN, ItemState.SUSPENDED: ItemState.WITHDRAWN}
        elif status is AccreditationStatus.EXPIRED:
            cap = {ItemState.ACTIVE: ItemState.EXPIRED, ItemState.SUSPENDED: ItemState.EXPIRED}
        elif status is AccreditationStatus.SUSPENDED:
            cap = {ItemState.ACTIVE: ItemState.SUSPENDED}
        else:
            return self.items
        return {i: cap.get(state, state) for i, state in self.items.items()}

    @property
    def active(self) -> bool:
        """Whether certificates of this accreditation can be current."""
        return self.status in (AccreditationStatus.VALID, AccreditationStatus.PARTIALLY_SUSPENDED)


@dataclass
class _Suspension:
    effective: date
    until: date | None
    reason: str | None

    def in_force(self, day: date) -> bool:
        return self.until is None or day <= self.until


def derive(
    events: Iterable[Event],
    *,
    valid_until: date,
    scope_items: Collection[int],
    at: datetime,
) -> Standing:
    """Derive the public standing of one accreditation at instant ``at``."""
    day = local_date(at)
    history = list(events)
    applied = sorted((e for e in history if e.effective <= day), key=lambda e: (e.effective, e.seq))
    # Items brought in by an extension are out of scope until it takes effect.
    added_later = {i for e in history if e.kind is EventKind.EXTENDED for i in e.items}
    granted: Event | None = None
    withdrawal: Event | None = None
    whole: _Suspension | None = None
    items: dict[int, ItemState] = {
        i: ItemState.PENDING if i in added_later else ItemState.ACTIVE for i in scope_items
    }
    item_suspensions: dict[int, _Suspension] = {}

    for event in applied:
        kind = event.kind
        if kind is EventKind.GRANTED:
            granted = event
        elif kind in WITHDRAWAL_KINDS:
            withdrawal = event
        elif kind is EventKind.EXTENDED:
            for i in event.items:
                items[i] = ItemState.ACTIVE
                item_suspensions.pop(i, None)
        elif kind is EventKind.REDUCED:
            for i in event.items:
                items[i] = ItemState.WITHDRAWN
                item_suspensions.pop(i, None)
        elif kind is EventKind.SUSPENDED:
            suspension = _Suspension(event.effective, event.until, event.reason)
            if event.items:
                for i in event.items:
                    if items.get(i) is ItemState.ACTIVE:
                        item_suspensions[i] = suspension
            else:
                whole = suspension
        elif kind is EventKind.REINSTATED:
            if event.items:
                for i in event.items:
                    item_suspensions.pop(i, None)
            else:
                whole = None
                item_suspensions.clear()
        # RENEWED changes the cycle dates, which the caller passes as valid_until.

    for i, suspension in item_suspensions.items():
        if suspension.in_force(day) and items.get(i) is ItemState.ACTIVE:
            items[i] = ItemState.SUSPENDED

    def standing(
        status: AccreditationStatus,
        since: date | None,
        until: date | None = None,
        reason: str | None = None,
    ) -> Standing:
        windows = {
            i: (item_suspensions[i].effective, item_suspensions[i].until)
            for i, state in items.items()
            if state is ItemState.SUSPENDED and i in item_suspensions
        }
        return Standing(status, since, until, reason, items, day, windows)

    if withdrawal is not None:
        return standing(
            AccreditationStatus.WITHDRAWN, withdrawal.effective, None, withdrawal.reason
        )
    if granted is None:
        return standing(AccreditationStatus.PENDING, None)
    if day > valid_until:
        return standing(AccreditationStatus.EXPIRED, valid_until + timedelta(days=1))
    if whole is not None and whole.in_force(day):
        return standing(AccreditationStatus.SUSPENDED, whole.effective, whole.until, whole.reason)

    in_scope = [i for i, s in items.items() if s in (ItemState.ACTIVE, ItemState.SUSPENDED)]
    suspended = [item_suspensions[i] for i in in_scope if items[i] is ItemState.SUSPENDED]
    if suspended:
        first = min(suspended, key=lambda s: s.effective)
        ends = [s.until for s in suspended]
        until = None if None in ends else max(e for e in ends if e is not None)
        status = (
            AccreditationStatus.SUSPENDED
            if len(suspended) == len(in_scope)
            else AccreditationStatus.PARTIALLY_SUSPENDED
        )
        return standing(status, first.effective, until, first.reason)
    return standing(AccreditationStatus.VALID, granted.effective)


def document_status(standing: Standing, *, latest: bool) -> DocumentStatus:
    """Whether one certificate revision is current, superseded, or why not.

    A stopped accreditation (withdrawn, expired, suspended) is reported as such
    even on an old revision: that is the fact a reader must not miss. Only an
    active accreditation lets ``superseded`` show.
    """
    status = standing.status
    if status is AccreditationStatus.WITHDRAWN:
        return DocumentStatus.WITHDRAWN
    if status is AccreditationStatus.EXPIRED:
        return DocumentStatus.EXPIRED
    if status is AccreditationStatus.SUSPENDED:
        return DocumentStatus.SUSPENDED
    if status is AccreditationStatus.PENDING:
        return DocumentStatus.UNKNOWN
    if not latest:
        return DocumentStatus.SUPERSEDED
    if status is AccreditationStatus.PARTIALLY_SUSPENDED:
        return DocumentStatus.PARTIALLY_SUSPENDED
    return DocumentStatus.CURRENT
