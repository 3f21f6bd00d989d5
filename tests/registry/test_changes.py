"""The one write path: every change leaves its audit entry, a new version and a fresh index."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry import changes, version
from registry.acts.decisions import DecisionRefused, record
from registry.changes import (
    DEVELOPMENT,
    SYSTEM,
    Actor,
    ActorKind,
    AuditEntry,
    Change,
    ChangeRefused,
)
from registry.register.status import EventKind
from registry.search.models import SearchEntry

from . import factories

NOW = datetime(2026, 6, 1, 5, tzinfo=UTC)


def entries_for(session: Session, target_id: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.target_id == target_id).order_by(AuditEntry.id)
        )
    )


def test_record_writes_audit_version_and_index_in_the_callers_transaction(session: Session):
    acc = factories.accreditation(session, name_en="Before Name Co., Ltd.")
    before = version.current(session, NOW).number
    acc.cab.name_en = "After Name Co., Ltd."
    entry = changes.record(
        session,
        Change(
            action="cab.rename",
            target_type="cab",
            target_id=str(acc.cab_id),
            actor=DEVELOPMENT,
            accreditations={acc.id},
            detail={"name_en": "After Name Co., Ltd."},
        ),
        NOW,
    )
    assert entry.id is not None
    assert (entry.actor_kind, entry.actor_id, entry.approver_id) == (
        ActorKind.DEVELOPMENT,
        None,
        None,
    )
    assert entry.at == NOW
    assert version.current(session, NOW).number == before + 1
    indexed = session.get(SearchEntry, acc.id)
    assert indexed is not None
    assert indexed.name_en == "After Name Co., Ltd."
    assert indexed.version == before + 1


def test_a_rollback_undoes_the_change_and_its_bookkeeping(session: Session):
    acc = factories.accreditation(session)
    session.commit()
    before = version.current(session, NOW).number
    with pytest.raises(RuntimeError), session.begin_nested():
        changes.record(
            session,
            Change("cab.rename", "cab", str(acc.cab_id), DEVELOPMENT, accreditations={acc.id}),
            NOW,
        )
        raise RuntimeError("the caller fails after recording")
    assert version.current(session, NOW).number == before
    assert [e.action for e in entries_for(session, str(acc.cab_id))] == []


def test_a_decision_names_proposer_and_approver(session: Session):
    acc = factories.accreditation(session)
    officer, approver = factories.staff_pair(session)
    record(
        session,
        acc,
        EventKind.GRANTED,
        date(2024, 1, 15),
        proposed_by=officer,
        approved_by=approver,
        reason_en="Assessment passed",
        reason_th="ผ่านการตรวจประเมิน",
        now=NOW,
    )
    [entry] = [e for e in entries_for(session, acc.number) if e.action == "accreditation.granted"]
    assert (entry.actor_kind, entry.actor_id, entry.approver_id) == (
        ActorKind.STAFF,
        officer.id,
        approver.id,
    )
    assert entry.detail["reason_th"] == "ผ่านการตรวจประเมิน"
    assert entry.detail["effective"] == "2024-01-15"


def test_the_proposer_cannot_approve_at_any_layer(session: Session):
    acc = factories.accreditation(session)
    officer, _ = factories.staff_pair(session)
    with pytest.raises(DecisionRefused, match="someone other than its proposer"):
        record(
            session,
            acc,
            EventKind.GRANTED,
            date(2024, 1, 15),
            proposed_by=officer,
            approved_by=officer,
            reason_en="x",
        )
    with pytest.raises(ChangeRefused, match="someone other than its author"):
        Change("x.y", "x", "1", Actor.staff(officer.id), approver=Actor.staff(officer.id))
    with pytest.raises(ChangeRefused, match="only a member of staff can approve"):
        Change("x.y", "x", "1", Actor.staff(officer.id), approver=SYSTEM)
    with pytest.raises(ChangeRefused, match="names its account"):
        Actor(ActorKind.STAFF)
    session.add(
        AuditEntry(
            actor_kind=ActorKind.STAFF,
            actor_id=officer.id,
            approver_id=officer.id,
            action="x.y",
            target_type="x",
            target_id="1",
        )
    )
    with pytest.raises(IntegrityError, match="four_eyes"):
        session.flush()


def test_a_staff_entry_names_its_account_in_the_database(session: Session):
    session.add(
        AuditEntry(actor_kind=ActorKind.STAFF, action="x.y", target_type="x", target_id="1")
    )
    with pytest.raises(IntegrityError, match="staff_actor_named"):
        session.flush()


def test_an_issuance_and_a_decision_each_move_the_version_once(session: Session):
    acc = factories.accreditation(session)
    staff = factories.staff_pair(session)
    first = version.current(session, NOW).number
    factories.event(session, acc, EventKind.GRANTED, date(2024, 1, 15), staff=staff)
    assert version.current(session, NOW).number == first + 1
    factories.event(session, acc, EventKind.SUSPENDED, date(2025, 1, 1), staff=staff)
    assert version.current(session, NOW).number == first + 2
    assert session.get(SearchEntry, acc.id).status == "suspended"


def test_audit_rows_round_trip_with_utc_and_thai_detail(session: Session):
    officer, _ = factories.staff_pair(session)
    session.add(
        AuditEntry(
            actor_kind=ActorKind.STAFF,
            actor_id=officer.id,
            action="accreditation.suspend",
            target_type="accreditation",
            target_id="Testing-0001",
            detail={"reason": "ไม่ผ่าน PT"},
        )
    )
    session.commit()
    session.expire_all()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.actor_id == officer.id)).one()
    assert entry.detail == {"reason": "ไม่ผ่าน PT"}
    assert entry.at.tzinfo is UTC


def test_the_actor_kind_is_checked_by_the_database(session: Session):
    with pytest.raises(IntegrityError):
        session.execute(
            text(
                "INSERT INTO audit_log (at, actor_kind, action, target_type, target_id, detail) "
                "VALUES (:at, 'intern', 'x.y', 'x', '1', '{}')"
            ),
            {"at": datetime(2026, 1, 1)},
        )
