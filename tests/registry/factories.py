"""Small builders for rows the tests need; each returns persisted objects."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from registry import freshness
from registry.demo import national_id
from registry.models import (
    Accreditation,
    Cab,
    ScopeItem,
    Site,
    StaffRole,
    StaffUser,
    StatusEvent,
)
from registry.programmes import Programme, accreditation_number
from registry.status import EventKind

_seq = itertools.count(900_000)


def staff_pair(session: Session) -> tuple[StaffUser, StaffUser]:
    n = next(_seq)
    officer = StaffUser(email=f"officer{n}@example.test", name="Officer", role=StaffRole.OFFICER)
    approver = StaffUser(
        email=f"approver{n}@example.test", name="Approver", role=StaffRole.APPROVER
    )
    session.add_all([officer, approver])
    session.flush()
    return officer, approver


def accreditation(
    session: Session,
    *,
    items: int = 3,
    programme: Programme = Programme.TESTING,
    granted: date = date(2024, 1, 15),
    valid_until: date = date(2029, 1, 14),
    name_en: str = "Siam Test Lab Co., Ltd.",
    name_th: str = "บริษัท สยามเทสต์ แล็บ จำกัด",
    province: tuple[str, str] = ("Bangkok", "กรุงเทพมหานคร"),
    scope: dict[str, str] | None = None,
) -> Accreditation:
    """A body with one site and ``items`` scope lines; ``scope`` overrides their columns."""
    n = next(_seq)
    cab = Cab(national_id=national_id(n), name_th=name_th, name_en=name_en)
    site = Site(
        cab=cab,
        name_en="Head office",
        name_th="สำนักงานใหญ่",
        address_en="1 Rama IV Road, Bangkok 10110, Thailand",
        address_th="เลขที่ 1 ถนนพระรามที่ 4 กรุงเทพมหานคร 10110",
        province_en=province[0],
        province_th=province[1],
    )
    acc = Accreditation(
        number=accreditation_number(programme, n),
        cab=cab,
        programme=programme,
        standard=programme.standard,
        first_granted=granted,
        valid_from=granted,
        valid_until=valid_until,
    )
    for k in range(items):
        columns = {
            "field_en": "Chemical testing",
            "field_th": "การทดสอบทางเคมี",
            "product_en": "Fruit juice",
            "product_th": "น้ำผลไม้",
            "parameter_en": f"Element {k}",
            "parameter_th": f"ธาตุ {k}",
            "method": "AOAC 999.11",
        }
        acc.scope_items.append(ScopeItem(site=site, **{**columns, **(scope or {})}))
    session.add(acc)
    freshness.changed(session, [acc.id], datetime.now(UTC))
    return acc


def event(
    session: Session,
    acc: Accreditation,
    kind: EventKind,
    effective: date,
    *,
    staff: tuple[StaffUser, StaffUser],
    items: list[ScopeItem] | None = None,
    end: date | None = None,
    approved: bool = True,
    reason: str = "",
) -> StatusEvent:
    officer, approver = staff
    row = StatusEvent(
        accreditation=acc,
        kind=kind,
        effective_date=effective,
        end_date=end,
        reason_en=reason,
        proposed_by=officer,
        approved_by=approver if approved else None,
        approved_at=datetime.now(UTC) if approved else None,
        items=items or [],
    )
    session.add(row)
    freshness.changed(session, [acc.id], datetime.now(UTC))
    return row


def decide(app: Any, number: str, kind: EventKind, **kwargs: Any) -> None:
    """Record an approved decision on ``number`` today (Bangkok), as staff would."""
    from registry import db
    from registry.decisions import record
    from registry.issuance import find_accreditation
    from registry.status import local_date

    with Session(db.get_engine(app)) as session, session.begin():
        officer, approver = staff_pair(session)
        record(
            session,
            find_accreditation(session, number),
            kind,
            kwargs.pop("effective", local_date(datetime.now(UTC))),
            proposed_by=officer,
            approved_by=approver,
            reason_en=kwargs.pop("reason", "Unsatisfactory proficiency testing"),
            **kwargs,
        )
