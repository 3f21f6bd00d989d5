"""Small builders for rows the tests need; each returns persisted objects.

They go through the product's own write path (``changes.record``, and
``acts.decisions.record`` for decisions), so the search index, the register
version and the audit log are what they would be in production.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from registry import changes
from registry.acts.decisions import record
from registry.certificates.issuance import find_accreditation
from registry.changes import DEVELOPMENT, Change
from registry.dates import local_date
from registry.demo.generator import national_id
from registry.register.models import Accreditation, Cab, ScopeItem, Site, StatusEvent
from registry.register.programmes import Programme, accreditation_number
from registry.register.status import EventKind
from registry.staff.models import RoleGrant, StaffRole, StaffUser
from registry.web import current

_seq = itertools.count(900_000)


def staff_pair(session: Session) -> tuple[StaffUser, StaffUser]:
    n = next(_seq)
    officer = StaffUser(email=f"officer{n}@example.test", name="Officer")
    approver = StaffUser(email=f"approver{n}@example.test", name="Approver")
    session.add_all([officer, approver])
    session.flush()
    session.add_all(
        [
            RoleGrant(staff_id=officer.id, role=StaffRole.OFFICER),
            RoleGrant(staff_id=approver.id, role=StaffRole.DECISION_MAKER),
        ]
    )
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
    session.flush()
    changes.record(
        session,
        Change(
            action="accreditation.create",
            target_type="accreditation",
            target_id=acc.number,
            actor=DEVELOPMENT,
            accreditations={acc.id},
        ),
        datetime.now(UTC),
    )
    return acc


def event(
    session: Session,
    acc: Accreditation,
    kind: EventKind,
    effective: date,
    *,
    staff: tuple[StaffUser, StaffUser],
    items: Sequence[ScopeItem] = (),
    end: date | None = None,
    reason: str = "",
) -> StatusEvent:
    """An approved decision, recorded as staff record one (``acts.decisions.record``)."""
    officer, approver = staff
    return record(
        session,
        acc,
        kind,
        effective,
        proposed_by=officer,
        approved_by=approver,
        reason_en=reason,
        items=items,
        until=end,
    )


def decide(app: Flask, number: str, kind: EventKind, **kwargs: Any) -> None:
    """Record an approved decision on ``number`` today (Bangkok), as staff would."""
    with current.database(app).transaction() as session:
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
