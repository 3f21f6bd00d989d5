"""Every model and every status transition, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from registry.register.models import Cab, ScopeItem, Site, StatusEvent
from registry.register.programmes import Programme
from registry.register.standings import standings
from registry.register.status import AccreditationStatus as S
from registry.register.status import EventKind as K
from registry.register.status import ItemState
from registry.staff.models import StaffUser

from .. import factories


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 5, tzinfo=UTC)


def status_of(session: Session, acc, day: date):
    return standings(session, at(day), [acc.id])[acc.id]


def test_cab_site_accreditation_and_scope_round_trip(session: Session):
    acc = factories.accreditation(session, items=2, programme=Programme.CALIBRATION)
    acc.scope_items[0].range_text = "1 mg to 20 kg"
    acc.scope_items[0].cmc_text = "0.003 mg to 30 mg"
    session.commit()
    session.expire_all()
    cab = session.scalars(select(Cab).where(Cab.id == acc.cab_id)).one()
    assert cab.name_th == "บริษัท สยามเทสต์ แล็บ จำกัด"
    assert cab.sites[0].province_th == "กรุงเทพมหานคร"
    assert cab.sites[0].country == "TH"
    [stored] = cab.accreditations
    assert stored.programme is Programme.CALIBRATION
    assert stored.standard == "ISO/IEC 17025:2017"
    assert stored.scope_items[0].cmc_text == "0.003 mg to 30 mg"
    assert stored.scope_items[0].site.cab is cab
    assert cab.created_at.tzinfo is UTC


def test_timestamps_come_back_in_utc(session: Session):
    bangkok = timezone(timedelta(hours=7))
    user = StaffUser(
        email="tz@example.test",
        name="Tz",
        created_at=datetime(2026, 1, 1, 8, 0, tzinfo=bangkok),
    )
    session.add(user)
    session.commit()
    session.expire_all()
    assert user.created_at == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    assert user.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(session: Session):
    session.add(StaffUser(email="n@example.test", name="N", created_at=datetime(2026, 1, 1)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_accreditation_numbers_are_unique(session: Session):
    first = factories.accreditation(session)
    second = factories.accreditation(session)
    second.number = first.number
    with pytest.raises(IntegrityError):
        session.flush()


def test_national_ids_are_unique_and_13_digits(session: Session):
    acc = factories.accreditation(session)
    with session.begin_nested():
        session.add(Cab(national_id=acc.cab.national_id, name_th="x", name_en="x"))
        with pytest.raises(IntegrityError):
            session.flush()
    with session.begin_nested():
        session.add(Cab(national_id="12345", name_th="x", name_en="x"))
        with pytest.raises(IntegrityError):
            session.flush()


def test_enum_columns_are_checked_by_the_database(session: Session):
    acc = factories.accreditation(session)
    with pytest.raises(IntegrityError):
        session.execute(
            text("UPDATE accreditation SET programme = 'astrology' WHERE id = :id"),
            {"id": acc.id},
        )


def test_foreign_keys_are_enforced(session: Session):
    acc = factories.accreditation(session)
    with pytest.raises(IntegrityError):
        session.execute(
            text("UPDATE scope_item SET site_id = 987654321 WHERE accreditation_id = :id"),
            {"id": acc.id},
        )


def test_cycle_dates_are_checked(session: Session):
    acc = factories.accreditation(session)
    acc.valid_until = acc.valid_from - timedelta(days=1)
    with pytest.raises(IntegrityError):
        session.flush()


def raw_event(acc, kind: K, effective: date, officer, approver, **columns) -> StatusEvent:
    """A status event row made around every write path: what the database alone refuses."""
    return StatusEvent(
        accreditation=acc,
        kind=kind,
        effective_date=effective,
        proposed_by=officer,
        approved_by=approver,
        approved_at=datetime.now(UTC) if approver else None,
        **columns,
    )


def test_four_eyes_one_person_cannot_approve_their_own_proposal(session: Session):
    acc = factories.accreditation(session)
    officer, _ = factories.staff_pair(session)
    session.add(raw_event(acc, K.GRANTED, date(2024, 1, 15), officer, officer))
    with pytest.raises(IntegrityError, match="four_eyes"):
        session.flush()


def test_end_date_only_on_a_suspension(session: Session):
    acc = factories.accreditation(session)
    officer, approver = factories.staff_pair(session)
    session.add(
        raw_event(acc, K.WITHDRAWN, date(2025, 1, 1), officer, approver, end_date=date(2025, 2, 1))
    )
    with pytest.raises(IntegrityError, match="end_date_only_on_suspension"):
        session.flush()


def test_every_transition_through_the_database(session: Session):
    acc = factories.accreditation(session, items=3)
    staff = factories.staff_pair(session)
    one, two, three = acc.scope_items

    def ev(kind, day, **kw):
        return factories.event(session, acc, kind, day, staff=staff, **kw)

    ev(K.GRANTED, date(2024, 1, 15))
    assert status_of(session, acc, date(2024, 1, 14)).status is S.PENDING
    assert status_of(session, acc, date(2024, 1, 15)).status is S.VALID

    ev(K.SUSPENDED, date(2024, 3, 1), items=[one], end=date(2024, 3, 31))
    partial = status_of(session, acc, date(2024, 3, 2))
    assert partial.status is S.PARTIALLY_SUSPENDED
    assert partial.items[one.id] is ItemState.SUSPENDED
    assert status_of(session, acc, date(2024, 4, 1)).status is S.VALID

    ev(K.SUSPENDED, date(2024, 5, 1), reason="PT failed")
    whole = status_of(session, acc, date(2024, 5, 1))
    assert (whole.status, whole.reason) == (S.SUSPENDED, "PT failed")
    ev(K.REINSTATED, date(2024, 6, 1))
    assert status_of(session, acc, date(2024, 6, 1)).status is S.VALID

    ev(K.REDUCED, date(2024, 7, 1), items=[three])
    ev(K.EXTENDED, date(2024, 8, 1), items=[two])
    assert status_of(session, acc, date(2024, 7, 15)).items[two.id] is ItemState.PENDING
    after = status_of(session, acc, date(2024, 8, 1))
    assert after.items[three.id] is ItemState.WITHDRAWN
    assert after.items[two.id] is ItemState.ACTIVE

    # A proposal that nobody has approved yet changes nothing.
    session.add(raw_event(acc, K.WITHDRAWN, date(2024, 9, 1), staff[0], None))
    session.flush()
    assert status_of(session, acc, date(2024, 9, 2)).status is S.VALID

    assert status_of(session, acc, date(2029, 1, 15)).status is S.EXPIRED
    ev(K.RENEWED, date(2029, 1, 15))
    acc.valid_until = date(2034, 1, 14)
    session.flush()
    assert status_of(session, acc, date(2029, 1, 15)).status is S.VALID

    ev(K.VOLUNTARILY_WITHDRAWN, date(2030, 1, 1), reason="closed")
    gone = status_of(session, acc, date(2030, 1, 1))
    assert (gone.status, gone.since) == (S.WITHDRAWN, date(2030, 1, 1))


def test_standings_for_the_whole_register_match_one_by_one(session: Session):
    staff = factories.staff_pair(session)
    accs = [factories.accreditation(session) for _ in range(3)]
    for acc in accs:
        factories.event(session, acc, K.GRANTED, date(2024, 1, 15), staff=staff)
    factories.event(session, accs[1], K.SUSPENDED, date(2025, 1, 1), staff=staff)
    every = standings(session, at(date(2025, 2, 1)))
    for acc in accs:
        assert every[acc.id] == status_of(session, acc, date(2025, 2, 1))
    assert every[accs[1].id].status is S.SUSPENDED


def test_scope_items_and_sites_belong_together(session: Session):
    acc = factories.accreditation(session, items=1)
    site = session.get(Site, acc.scope_items[0].site_id)
    assert site is not None
    items = session.scalars(select(ScopeItem).where(ScopeItem.site_id == site.id)).all()
    assert [i.id for i in items] == [acc.scope_items[0].id]
    assert (
        session.scalars(select(StatusEvent).where(StatusEvent.accreditation_id == acc.id)).all()
        == []
    )
