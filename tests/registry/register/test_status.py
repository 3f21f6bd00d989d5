"""Status derivation: every transition, partial suspension, dates in Bangkok."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from registry.register.status import (
    AccreditationStatus as S,
)
from registry.register.status import (
    DocumentStatus as D,
)
from registry.register.status import (
    Event,
    ItemState,
    derive,
    document_status,
    local_date,
)
from registry.register.status import (
    EventKind as K,
)

GRANT = date(2024, 1, 15)
UNTIL = date(2029, 1, 14)
ITEMS = (1, 2, 3, 4)


def at(day: date, hour: int = 12) -> datetime:
    """Noon in Bangkok on ``day`` (05:00 UTC)."""
    return datetime(day.year, day.month, day.day, hour - 7, tzinfo=UTC)


def standing(events: list[Event], when: date | datetime, *, items=ITEMS, until=UNTIL):
    moment = when if isinstance(when, datetime) else at(when)
    return derive(events, valid_until=until, scope_items=items, at=moment)


def granted(**kw) -> Event:
    return Event(K.GRANTED, GRANT, seq=1, **kw)


def test_pending_before_the_grant_takes_effect():
    result = standing([granted()], GRANT - timedelta(days=1))
    assert result.status is S.PENDING
    assert result.since is None


def test_no_events_means_pending():
    assert standing([], GRANT).status is S.PENDING


def test_granted_is_valid_from_its_effective_day():
    result = standing([granted()], GRANT)
    assert result.status is S.VALID
    assert result.since == GRANT
    assert all(state is ItemState.ACTIVE for state in result.items.values())
    assert result.active


def test_whole_suspension_then_reinstatement():
    events = [
        granted(),
        Event(K.SUSPENDED, date(2025, 3, 1), reason="PT results", seq=2),
        Event(K.REINSTATED, date(2025, 5, 1), seq=3),
    ]
    before = standing(events, date(2025, 2, 28))
    during = standing(events, date(2025, 3, 1))
    after = standing(events, date(2025, 5, 1))
    assert before.status is S.VALID
    assert during.status is S.SUSPENDED
    assert during.since == date(2025, 3, 1)
    assert during.reason == "PT results"
    assert during.until is None
    assert not during.active
    assert after.status is S.VALID


def test_suspension_with_an_end_date_lapses_after_its_last_day():
    events = [granted(), Event(K.SUSPENDED, date(2025, 3, 1), until=date(2025, 3, 31), seq=2)]
    last_day = standing(events, datetime(2025, 3, 31, 16, 59, 59, tzinfo=UTC))  # 23:59:59 BKK
    next_day = standing(events, datetime(2025, 3, 31, 17, 0, 0, tzinfo=UTC))  # 00:00 BKK
    assert last_day.status is S.SUSPENDED
    assert last_day.until == date(2025, 3, 31)
    assert next_day.status is S.VALID


def test_partial_suspension_names_the_items():
    events = [granted(), Event(K.SUSPENDED, date(2025, 6, 1), items=frozenset({2}), seq=2)]
    result = standing(events, date(2025, 6, 2))
    assert result.status is S.PARTIALLY_SUSPENDED
    assert result.suspended_items == {2}
    assert result.items[1] is ItemState.ACTIVE
    assert result.since == date(2025, 6, 1)
    assert result.active


def test_partial_suspension_of_every_item_in_scope_is_a_suspension():
    events = [
        granted(),
        Event(K.REDUCED, date(2025, 1, 1), items=frozenset({4}), seq=2),
        Event(K.SUSPENDED, date(2025, 6, 1), items=frozenset({1, 2, 3}), seq=3),
    ]
    result = standing(events, date(2025, 6, 1))
    assert result.status is S.SUSPENDED
    assert result.items[4] is ItemState.WITHDRAWN


def test_partial_suspension_with_end_date_and_item_reinstatement():
    events = [
        granted(),
        Event(K.SUSPENDED, date(2025, 6, 1), until=date(2025, 6, 30), items=frozenset({1}), seq=2),
        Event(K.SUSPENDED, date(2025, 6, 5), items=frozenset({2, 3}), seq=3),
        Event(K.REINSTATED, date(2025, 6, 10), items=frozenset({2}), seq=4),
    ]
    assert standing(events, date(2025, 6, 6)).suspended_items == {1, 2, 3}
    assert standing(events, date(2025, 6, 10)).suspended_items == {1, 3}
    july = standing(events, date(2025, 7, 1))
    assert july.suspended_items == {3}
    assert july.status is S.PARTIALLY_SUSPENDED


def test_whole_reinstatement_lifts_item_suspensions_too():
    events = [
        granted(),
        Event(K.SUSPENDED, date(2025, 6, 1), items=frozenset({1}), seq=2),
        Event(K.REINSTATED, date(2025, 7, 1), seq=3),
    ]
    assert standing(events, date(2025, 7, 1)).status is S.VALID


def test_extension_adds_items_from_its_effective_day():
    events = [granted(), Event(K.EXTENDED, date(2025, 9, 1), items=frozenset({4}), seq=2)]
    before = standing(events, date(2025, 8, 31))
    after = standing(events, date(2025, 9, 1))
    assert before.items[4] is ItemState.PENDING
    assert after.items[4] is ItemState.ACTIVE
    assert before.status is after.status is S.VALID


def test_suspending_an_item_not_yet_in_scope_has_no_effect():
    events = [
        granted(),
        Event(K.EXTENDED, date(2025, 9, 1), items=frozenset({4}), seq=2),
        Event(K.SUSPENDED, date(2025, 8, 1), items=frozenset({4}), seq=3),
    ]
    assert standing(events, date(2025, 9, 2)).status is S.VALID


def test_reduction_removes_items_for_good():
    events = [granted(), Event(K.REDUCED, date(2025, 2, 1), items=frozenset({1, 2}), seq=2)]
    result = standing(events, date(2025, 2, 1))
    assert result.items[1] is result.items[2] is ItemState.WITHDRAWN
    assert result.status is S.VALID


@pytest.mark.parametrize("kind", [K.WITHDRAWN, K.VOLUNTARILY_WITHDRAWN])
def test_withdrawal_is_final_even_with_validity_in_the_future(kind):
    events = [granted(), Event(kind, date(2025, 4, 1), reason="closed", seq=2)]
    result = standing(events, date(2025, 4, 1))
    assert date(2025, 4, 1) < UNTIL
    assert result.status is S.WITHDRAWN
    assert result.since == date(2025, 4, 1)
    assert result.reason == "closed"
    later = [*events, Event(K.REINSTATED, date(2025, 5, 1), seq=3)]
    assert standing(later, date(2025, 6, 1)).status is S.WITHDRAWN


def test_withdrawn_while_the_granted_cycle_is_still_in_the_future():
    """Granted for a cycle that starts next year, withdrawn before it starts."""
    start, end = date(2027, 1, 1), date(2031, 12, 31)
    events = [Event(K.GRANTED, start, seq=1), Event(K.WITHDRAWN, date(2026, 12, 1), seq=2)]
    assert standing(events, date(2026, 11, 30), until=end).status is S.PENDING
    for day in (date(2026, 12, 1), date(2027, 1, 2), date(2031, 6, 1)):
        assert standing(events, day, until=end).status is S.WITHDRAWN


def test_expiry_happens_at_midnight_in_bangkok():
    events = [granted()]
    last_second = datetime(2029, 1, 14, 16, 59, 59, tzinfo=UTC)  # 23:59:59 on the 14th in BKK
    midnight = datetime(2029, 1, 14, 17, 0, 0, tzinfo=UTC)  # 00:00 on the 15th in BKK
    assert local_date(last_second) == date(2029, 1, 14)
    assert standing(events, last_second).status is S.VALID
    expired = standing(events, midnight)
    assert expired.status is S.EXPIRED
    assert expired.since == date(2029, 1, 15)
    # Still the 14th in UTC: a UTC-date comparison would get this wrong.
    assert midnight.date() == date(2029, 1, 14)


def test_renewal_with_a_new_cycle_end_keeps_it_valid():
    events = [granted(), Event(K.RENEWED, date(2029, 1, 15), seq=2)]
    assert standing(events, date(2029, 2, 1), until=date(2034, 1, 14)).status is S.VALID


def test_withdrawal_wins_over_expiry_and_expiry_over_suspension():
    suspended = [granted(), Event(K.SUSPENDED, date(2028, 12, 1), seq=2)]
    assert standing(suspended, date(2029, 2, 1)).status is S.EXPIRED
    withdrawn = [*suspended, Event(K.WITHDRAWN, date(2028, 12, 20), seq=3)]
    assert standing(withdrawn, date(2029, 2, 1)).status is S.WITHDRAWN


def test_same_day_events_apply_in_recorded_order():
    day = date(2025, 3, 1)
    events = [
        granted(),
        Event(K.REINSTATED, day, seq=3),
        Event(K.SUSPENDED, day, seq=2),
    ]
    assert standing(events, day).status is S.VALID
    events = [granted(), Event(K.SUSPENDED, day, seq=3), Event(K.REINSTATED, day, seq=2)]
    assert standing(events, day).status is S.SUSPENDED


def test_future_events_do_not_apply_yet():
    events = [granted(), Event(K.WITHDRAWN, date(2026, 1, 1), seq=2)]
    assert standing(events, date(2025, 12, 31)).status is S.VALID


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware datetime"):
        derive([granted()], valid_until=UNTIL, scope_items=ITEMS, at=datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": K.REDUCED}, "must name the scope items"),
        ({"kind": K.EXTENDED}, "must name the scope items"),
        ({"kind": K.WITHDRAWN, "items": frozenset({1})}, "whole accreditation"),
        ({"kind": K.REINSTATED, "until": date(2025, 2, 1)}, "only a suspension"),
        ({"kind": K.SUSPENDED, "until": date(2024, 12, 31)}, "cannot end before"),
    ],
)
def test_malformed_events_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Event(effective=date(2025, 1, 1), **kwargs)


@pytest.mark.parametrize(
    ("events", "day", "latest", "expected"),
    [
        ([granted()], date(2025, 1, 1), True, D.CURRENT),
        ([granted()], date(2025, 1, 1), False, D.SUPERSEDED),
        (
            [granted(), Event(K.SUSPENDED, date(2025, 1, 1), items=frozenset({1}), seq=2)],
            date(2025, 1, 1),
            True,
            D.PARTIALLY_SUSPENDED,
        ),
        (
            [granted(), Event(K.SUSPENDED, date(2025, 1, 1), items=frozenset({1}), seq=2)],
            date(2025, 1, 1),
            False,
            D.SUPERSEDED,
        ),
        (
            [granted(), Event(K.SUSPENDED, date(2025, 1, 1), seq=2)],
            date(2025, 1, 1),
            False,
            D.SUSPENDED,
        ),
        (
            [granted(), Event(K.WITHDRAWN, date(2025, 1, 1), seq=2)],
            date(2025, 1, 1),
            False,
            D.WITHDRAWN,
        ),
        ([granted()], date(2030, 1, 1), True, D.EXPIRED),
        ([granted()], date(2020, 1, 1), True, D.UNKNOWN),
    ],
)
def test_document_status(events, day, latest, expected):
    assert document_status(standing(events, day), latest=latest) is expected


# --- the line status the public reads (open data, record pages) --------------------------


@pytest.mark.parametrize(
    ("events", "day", "status", "lines"),
    [
        # Valid: each line as its own events left it.
        ([granted()], date(2025, 1, 1), S.VALID, ["active"] * 4),
        # Withdrawn: every line withdrawn, a suspended one too.
        (
            [
                granted(),
                Event(K.SUSPENDED, date(2025, 6, 1), items=frozenset({2}), seq=2),
                Event(K.WITHDRAWN, date(2025, 7, 1), seq=3),
            ],
            date(2025, 7, 1),
            S.WITHDRAWN,
            ["withdrawn"] * 4,
        ),
        # Wholly suspended: no line stays active.
        (
            [granted(), Event(K.SUSPENDED, date(2025, 3, 1), seq=2)],
            date(2025, 3, 2),
            S.SUSPENDED,
            ["suspended"] * 4,
        ),
        # Expired: lines in scope expire; a line removed before stays withdrawn.
        (
            [granted(), Event(K.REDUCED, date(2025, 3, 1), items=frozenset({4}), seq=2)],
            UNTIL + timedelta(days=1),
            S.EXPIRED,
            ["expired", "expired", "expired", "withdrawn"],
        ),
        # Partially suspended: only the named line.
        (
            [granted(), Event(K.SUSPENDED, date(2025, 6, 1), items=frozenset({2}), seq=2)],
            date(2025, 6, 2),
            S.PARTIALLY_SUSPENDED,
            ["active", "suspended", "active", "active"],
        ),
    ],
    ids=["valid", "withdrawn", "suspended", "expired", "partial"],
)
def test_no_public_line_is_active_under_a_stopped_accreditation(events, day, status, lines):
    result = standing(events, day)
    assert result.status is status
    assert [result.public_items[i].value for i in ITEMS] == lines
    # What the events did to each line is kept for the office.
    assert result.items[1] in (ItemState.ACTIVE, ItemState.SUSPENDED)


def test_a_line_not_yet_in_scope_stays_pending_in_public():
    events = [
        granted(),
        Event(K.EXTENDED, date(2026, 1, 1), items=frozenset({4}), seq=2),
        Event(K.WITHDRAWN, date(2025, 6, 1), seq=3),
    ]
    result = standing(events, date(2025, 7, 1))
    assert result.public_items[4] is ItemState.PENDING
    assert result.public_items[1] is ItemState.WITHDRAWN
