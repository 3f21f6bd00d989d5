"""Deterministic, realistic demo data: bilingual CABs, sites, scopes and histories.

Demo body *i* is generated from its own seeded random stream, so the data for a
given N is always the same (for a given anchor day) and ``--demo`` can grow an
existing demo register without touching what is there. Rows go in through
Core bulk inserts with ids assigned here: 100,000 bodies with about a million
scope items load in well under two minutes on SQLite. The caller records the
load through ``changes.record`` in the same transaction (``accredit init``).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import files
from typing import Any

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.orm import Session

from .. import changes
from ..changes import DEVELOPMENT, Change
from ..dates import BANGKOK
from ..log.backfill import backfill
from ..register.models import (
    Accreditation,
    Cab,
    ScopeItem,
    Site,
    StatusEvent,
    status_event_item,
)
from ..register.programmes import Programme, accreditation_number
from ..register.status import EventKind
from ..staff.models import RoleGrant, StaffRole, StaffUser
from ..version import lock

CYCLE_YEARS = 5

BRANDS = [
    ("สยาม", "Siam"),
    ("ไทย", "Thai"),
    ("เจริญ", "Charoen"),
    ("รุ่งเรือง", "Rungrueang"),
    ("ศรีสุข", "Srisuk"),
    ("บูรพา", "Burapha"),
    ("ล้านนา", "Lanna"),
    ("อีสาน", "Isan"),
    ("ทักษิณ", "Thaksin"),
    ("อันดามัน", "Andaman"),
    ("มหานคร", "Mahanakhon"),
    ("เพชร", "Phet"),
    ("ทอง", "Thong"),
    ("ชัยมงคล", "Chaimongkhon"),
    ("พัฒนา", "Phatthana"),
    ("มั่นคง", "Mankhong"),
    ("เอกชัย", "Ekkachai"),
    ("สุวรรณ", "Suwan"),
    ("ประเสริฐ", "Prasoet"),
    ("วัฒนา", "Watthana"),
    ("ก้าวหน้า", "Kaona"),
    ("เกษตร", "Kaset"),
    ("รัตนา", "Rattana"),
    ("บางกอก", "Bangkok"),
    ("เจ้าพระยา", "Chao Phraya"),
    ("แม่โขง", "Mekong"),
    ("กรุงไทย", "Krungthai"),
    ("นวกิจ", "Nawakit"),
    ("ศิริ", "Siri"),
    ("อุดม", "Udom"),
    ("ไบโอ", "Bio"),
    ("เทค", "Tech"),
    ("โกลบอล", "Global"),
    ("ยูนิ", "Uni"),
    ("อินเตอร์", "Inter"),
    ("เมดิ", "Medi"),
    ("เอเชีย", "Asia"),
    ("แปซิฟิก", "Pacific"),
]

KINDS: dict[Programme, list[tuple[str, str]]] = {
    Programme.TESTING: [
        ("ห้องปฏิบัติการทดสอบ", "Testing Laboratory"),
        ("ศูนย์ทดสอบ", "Testing Centre"),
        ("แล็บ", "Lab"),
        ("ห้องปฏิบัติการวิเคราะห์", "Analytical Laboratory"),
        ("เซอร์วิส", "Services"),
    ],
    Programme.CALIBRATION: [
        ("ห้องปฏิบัติการสอบเทียบ", "Calibration Laboratory"),
        ("มาตรวิทยา", "Metrology"),
        ("แคลิเบรชั่น", "Calibration"),
    ],
    Programme.MEDICAL: [
        ("ห้องปฏิบัติการทางการแพทย์", "Medical Laboratory"),
        ("เมดิคอลแล็บ", "Medical Lab"),
    ],
    Programme.INSPECTION: [("อินสเปคชั่น", "Inspection"), ("เซอร์เวย์", "Survey")],
    Programme.MANAGEMENT_SYSTEMS: [("เซอร์ทิฟิเคชั่น", "Certification")],
    Programme.PRODUCT_CERTIFICATION: [("เซอร์ทิฟิเคชั่น", "Certification")],
}

PROVINCES = [
    ("กรุงเทพมหานคร", "Bangkok", "10"),
    ("นนทบุรี", "Nonthaburi", "11"),
    ("ปทุมธานี", "Pathum Thani", "12"),
    ("สมุทรปราการ", "Samut Prakan", "10"),
    ("ชลบุรี", "Chon Buri", "20"),
    ("ระยอง", "Rayong", "21"),
    ("เชียงใหม่", "Chiang Mai", "50"),
    ("ขอนแก่น", "Khon Kaen", "40"),
    ("นครราชสีมา", "Nakhon Ratchasima", "30"),
    ("สงขลา", "Songkhla", "90"),
    ("สุราษฎร์ธานี", "Surat Thani", "84"),
    ("ภูเก็ต", "Phuket", "83"),
    ("พระนครศรีอยุธยา", "Phra Nakhon Si Ayutthaya", "13"),
    ("สระบุรี", "Saraburi", "18"),
    ("สมุทรสาคร", "Samut Sakhon", "74"),
    ("นครปฐม", "Nakhon Pathom", "73"),
    ("ฉะเชิงเทรา", "Chachoengsao", "24"),
    ("ลำปาง", "Lampang", "52"),
    ("อุบลราชธานี", "Ubon Ratchathani", "34"),
    ("พิษณุโลก", "Phitsanulok", "65"),
]
ABROAD = [
    ("เวียงจันทน์", "Vientiane", "LA"),
    ("นครโฮจิมินห์", "Ho Chi Minh City", "VN"),
    ("พนมเปญ", "Phnom Penh", "KH"),
    ("ย่างกุ้ง", "Yangon", "MM"),
]
ROADS = [
    ("ถนนพหลโยธิน", "Phahonyothin Road"),
    ("ถนนสุขุมวิท", "Sukhumvit Road"),
    ("ถนนพระรามที่ 4", "Rama IV Road"),
    ("ถนนวิภาวดีรังสิต", "Vibhavadi Rangsit Road"),
    ("ถนนบางนา-ตราด", "Bangna-Trat Road"),
    ("ถนนเพชรเกษม", "Phetkasem Road"),
    ("ถนนมิตรภาพ", "Mittraphap Road"),
    ("ถนนรัชดาภิเษก", "Ratchadaphisek Road"),
    ("ถนนงามวงศ์วาน", "Ngamwongwan Road"),
    ("ถนนแจ้งวัฒนะ", "Chaeng Watthana Road"),
    ("ถนนติวานนท์", "Tiwanon Road"),
    ("ถนนเทพารักษ์", "Theparak Road"),
]
SITE_NAMES = [
    ("สำนักงานใหญ่", "Head office"),
    ("สาขา", "Branch"),
    ("ห้องปฏิบัติการภาคสนาม", "Field laboratory"),
]

#: Calibration range and CMC, by (product, measurand) of the catalogue.
CALIBRATION = {
    "Weights class E2 to M3": ("1 mg to 20 kg", "0.003 mg to 30 mg"),
    "Non-automatic weighing instruments": ("0.1 g to 3 000 kg", "0.05 mg to 0.5 kg"),
    "Thermocouples": ("-40 °C to 1 200 °C", "0.5 °C to 2.2 °C"),
    "Liquid-in-glass thermometers": ("-30 °C to 250 °C", "0.05 °C to 0.3 °C"),
    "Temperature-controlled enclosures": ("-80 °C to 300 °C", "0.4 °C to 1.5 °C"),
    "Pressure gauges": ("0 kPa to 70 MPa", "0.015 % of reading"),
    "Vernier callipers": ("0 mm to 1 000 mm", "8 µm to 25 µm"),
    "Gauge blocks": ("0.5 mm to 100 mm", "0.05 µm + 0.5 µm/m × L"),
    "Digital multimeters|DC voltage": ("0 V to 1 000 V", "12 µV/V to 35 µV/V"),
    "Digital multimeters|AC current": ("10 mA to 20 A, 40 Hz to 1 kHz", "0.06 % to 0.3 %"),
    "Piston pipettes": ("1 µL to 10 mL", "0.2 % to 1.5 %"),
    "Uniaxial testing machines": ("10 N to 1 000 kN", "0.12 % to 0.5 %"),
}

SUSPENSION_REASONS = [
    (
        "Corrective actions from surveillance not closed in time",
        "ไม่ได้ดำเนินการแก้ไขข้อบกพร่องจากการตรวจติดตามภายในเวลาที่กำหนด",
    ),
    ("Unsatisfactory proficiency testing results", "ผลการทดสอบความชำนาญไม่เป็นที่น่าพอใจ"),
    ("Surveillance assessment not accepted by the body", "หน่วยงานไม่รับการตรวจติดตาม"),
]
WITHDRAWAL_REASONS = [
    ("Suspension not lifted within six months", "ไม่สามารถยกเลิกการพักใช้ได้ภายในหกเดือน"),
    ("Laboratory closed", "ห้องปฏิบัติการปิดกิจการ"),
]

DEMO_STAFF = [
    ("demo-officer@accredit.invalid", StaffRole.OFFICER),
    ("demo-decider@accredit.invalid", StaffRole.DECISION_MAKER),
]


@dataclass(frozen=True)
class CatalogueLine:
    field_en: str
    field_th: str
    product_en: str
    product_th: str
    parameter_en: str
    parameter_th: str
    method: str
    programme: Programme


def load_catalogue() -> dict[Programme, list[CatalogueLine]]:
    text = (files("registry") / "data" / "scope-catalogue.csv").read_text(encoding="utf-8")
    pools: dict[Programme, list[CatalogueLine]] = {}
    for row in csv.DictReader(text.splitlines()):
        name = row.pop("programme")
        if name == "certification":
            is_system = row["parameter_en"].startswith("Certification to ISO")
            programme = (
                Programme.MANAGEMENT_SYSTEMS if is_system else Programme.PRODUCT_CERTIFICATION
            )
        else:
            programme = Programme(name)
        pools.setdefault(programme, []).append(CatalogueLine(programme=programme, **row))
    return pools


def demo_contact(index: int, brand1: str, brand2: str) -> dict[str, str]:
    """A body's email, phone and website, plausible and reserved-looking.

    They come from their own seed, so adding them left every other generated
    value (sites, scopes, statuses) as it was; ``.example`` domains never
    reach a real inbox.
    """
    rng = random.Random(f"accredit-demo-contact-{index}")
    domain = f"{brand1}{brand2}-{index}".lower() + ".example"
    return {
        "email": f"info@{domain}",
        "phone": f"+66 2 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        "website": f"https://www.{domain}",
    }


def national_id(index: int) -> str:
    """A 13-digit Thai juristic-person ID with a valid check digit."""
    body = f"0105{index:08d}"
    total = sum(int(d) * (13 - n) for n, d in enumerate(body))
    return body + str((11 - total % 11) % 10)


def bangkok_instant(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), BANGKOK).astimezone(UTC)


@dataclass
class Ids:
    """Next free id per table, so that rows can reference each other before insert."""

    cab: int
    site: int
    accreditation: int
    scope_item: int
    event: int


@dataclass
class Batch:
    cabs: list[dict[str, Any]]
    sites: list[dict[str, Any]]
    accreditations: list[dict[str, Any]]
    scope_items: list[dict[str, Any]]
    events: list[dict[str, Any]]
    event_items: list[dict[str, Any]]


PROGRAMME_WEIGHTS = [
    (Programme.TESTING, 55),
    (Programme.CALIBRATION, 20),
    (Programme.MEDICAL, 12),
    (Programme.INSPECTION, 7),
    (Programme.MANAGEMENT_SYSTEMS, 3),
    (Programme.PRODUCT_CERTIFICATION, 3),
]


class Generator:
    def __init__(self, anchor: date, staff: tuple[int, int], ids: Ids) -> None:
        self.anchor = anchor
        self.officer, self.approver = staff
        self.ids = ids
        self.catalogue = load_catalogue()
        self.now = datetime.now(UTC)
        self.programmes = [p for p, _ in PROGRAMME_WEIGHTS]
        self.weights = [w for _, w in PROGRAMME_WEIGHTS]
        self.batch = Batch([], [], [], [], [], [])

    def add_cab(self, index: int) -> None:
        rng = random.Random(f"accredit-demo-{index}")
        ids = self.ids
        programme = rng.choices(self.programmes, self.weights)[0]
        programmes = [programme]
        if programme is Programme.TESTING and rng.random() < 0.12:
            programmes.append(Programme.CALIBRATION)
        cab_id = ids.cab
        ids.cab += 1
        (b1_th, b1_en), (b2_th, b2_en) = rng.sample(BRANDS, 2)
        kind_th, kind_en = rng.choice(KINDS[programme])
        if programme is Programme.MEDICAL and rng.random() < 0.5:
            name_th, name_en = f"โรงพยาบาล{b1_th}{b2_th}", f"{b1_en} {b2_en} Hospital"
        elif rng.random() < 0.1:
            name_th = f"บริษัท {b1_th}{b2_th} {kind_th} จำกัด (มหาชน)"
            name_en = f"{b1_en} {b2_en} {kind_en} Public Company Limited"
        else:
            name_th = f"บริษัท {b1_th}{b2_th} {kind_th} จำกัด"
            name_en = f"{b1_en} {b2_en} {kind_en} Co., Ltd."
        self.batch.cabs.append(
            {
                "id": cab_id,
                "national_id": national_id(index),
                "name_th": name_th,
                "name_en": name_en,
                **demo_contact(index, b1_en, b2_en),
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        site_count = rng.choice((1, 1, 1, 1, 2, 2, 3))
        site_ids = [self._add_site(rng, cab_id, n) for n in range(site_count)]
        for programme in programmes:
            self._add_accreditation(rng, index, cab_id, programme, site_ids)

    def _add_site(self, rng: random.Random, cab_id: int, n: int) -> int:
        site_id = self.ids.site
        self.ids.site += 1
        road_th, road_en = rng.choice(ROADS)
        number = f"{rng.randint(1, 999)}/{rng.randint(1, 99)}"
        if rng.random() < 0.02 and n > 0:
            prov_th, prov_en, country = rng.choice(ABROAD)
            address_th = f"{number} {prov_th}"
            address_en = f"{number}, {prov_en}"
        else:
            prov_th, prov_en, postal = rng.choice(PROVINCES)
            country = "TH"
            code = f"{postal}{rng.randint(100, 999)}"
            address_th = f"เลขที่ {number} {road_th} จังหวัด{prov_th} {code}"
            address_en = f"{number} {road_en}, {prov_en} {code}, Thailand"
        name_th, name_en = SITE_NAMES[min(n, 2)]
        if n:
            name_th, name_en = f"{name_th} {prov_th}", f"{name_en} {prov_en}"
        self.batch.sites.append(
            {
                "id": site_id,
                "cab_id": cab_id,
                "name_en": name_en,
                "name_th": name_th,
                "address_en": address_en,
                "address_th": address_th,
                "province_en": prov_en,
                "province_th": prov_th,
                "country": country,
            }
        )
        return site_id

    def _add_accreditation(
        self,
        rng: random.Random,
        index: int,
        cab_id: int,
        programme: Programme,
        site_ids: list[int],
    ) -> None:
        acc_id = self.ids.accreditation
        self.ids.accreditation += 1
        anchor = self.anchor
        roll = rng.random()
        cycle = timedelta(days=365 * CYCLE_YEARS)
        day = timedelta(days=1)
        expire = roll < 0.04
        if expire:
            valid_until = anchor - timedelta(days=rng.randint(1, 400))
            valid_from = valid_until - cycle + day
            starts = [valid_from - k * cycle for k in range(rng.randint(0, 2), -1, -1)]
        else:
            starts = [anchor - timedelta(days=rng.randint(20, 16 * 365))]
            while starts[-1] + cycle <= anchor:
                starts.append(starts[-1] + cycle)
            valid_from = starts[-1]
            valid_until = valid_from + cycle - day
        first = starts[0]
        self.batch.accreditations.append(
            {
                "id": acc_id,
                "number": accreditation_number(programme, index),
                "cab_id": cab_id,
                "programme": programme,
                "standard": programme.standard,
                "first_granted": first,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        item_ids = self._add_scope(rng, acc_id, programme, site_ids)

        self._event(acc_id, EventKind.GRANTED, starts[0])
        for start in starts[1:]:
            self._event(acc_id, EventKind.RENEWED, start)
        recent = max(valid_from, anchor - timedelta(days=700))
        span = max(1, (anchor - recent).days)
        if expire:
            return
        if roll < 0.07:
            reason = rng.choice(WITHDRAWAL_REASONS)
            kind = EventKind.WITHDRAWN if rng.random() < 0.6 else EventKind.VOLUNTARILY_WITHDRAWN
            self._event(acc_id, kind, recent + timedelta(days=rng.randrange(span)), reason=reason)
        elif roll < 0.11:
            end = anchor + timedelta(days=rng.randint(10, 120)) if rng.random() < 0.5 else None
            start = anchor - timedelta(days=rng.randint(0, 120))
            self._event(
                acc_id, EventKind.SUSPENDED, start, until=end, reason=rng.choice(SUSPENSION_REASONS)
            )
        elif roll < 0.16 and len(item_ids) > 1:
            chosen = rng.sample(item_ids, rng.randint(1, max(1, len(item_ids) // 3)))
            start = anchor - timedelta(days=rng.randint(0, 200))
            self._event(
                acc_id,
                EventKind.SUSPENDED,
                start,
                items=chosen,
                reason=rng.choice(SUSPENSION_REASONS),
            )
        elif roll < 0.24 and len(item_ids) > 2:
            day = recent + timedelta(days=rng.randrange(span))
            self._event(
                acc_id,
                EventKind.EXTENDED,
                day,
                items=item_ids[-1:],
                reason=("Scope extended after assessment", "ขยายขอบข่ายหลังการตรวจประเมิน"),
            )
            if rng.random() < 0.5:
                self._event(
                    acc_id,
                    EventKind.REDUCED,
                    day,
                    items=item_ids[:1],
                    reason=("Reduced at the body's request", "ลดขอบข่ายตามคำขอของหน่วยงาน"),
                )
        elif roll < 0.30:
            start = recent + timedelta(days=rng.randrange(span))
            self._event(acc_id, EventKind.SUSPENDED, start, reason=rng.choice(SUSPENSION_REASONS))
            self._event(
                acc_id,
                EventKind.REINSTATED,
                min(anchor, start + timedelta(days=45)),
                reason=("Corrective actions accepted", "ยอมรับการแก้ไขข้อบกพร่องแล้ว"),
            )

    def _add_scope(
        self, rng: random.Random, acc_id: int, programme: Programme, site_ids: list[int]
    ) -> list[int]:
        pool = self.catalogue[programme]
        count = rng.randint(max(1, len(pool) // 12), max(1, len(pool) // 3))
        lines = rng.sample(pool, min(count, len(pool)))
        placed = [(line, site_ids[0]) for line in lines]
        for site_id in site_ids[1:]:
            placed += [(line, site_id) for line in rng.sample(lines, rng.randint(1, len(lines)))]
        ids = []
        for line, site_id in placed:
            item_id = self.ids.scope_item
            self.ids.scope_item += 1
            ids.append(item_id)
            calibration = CALIBRATION.get(
                f"{line.product_en}|{line.parameter_en}", CALIBRATION.get(line.product_en)
            )
            self.batch.scope_items.append(
                {
                    "id": item_id,
                    "accreditation_id": acc_id,
                    "site_id": site_id,
                    "field_en": line.field_en,
                    "field_th": line.field_th,
                    "product_en": line.product_en,
                    "product_th": line.product_th,
                    "parameter_en": line.parameter_en,
                    "parameter_th": line.parameter_th,
                    "method": line.method,
                    "range_text": calibration[0] if calibration else None,
                    "cmc_text": calibration[1] if calibration else None,
                }
            )
        return ids

    def _event(
        self,
        acc_id: int,
        kind: EventKind,
        effective: date,
        *,
        until: date | None = None,
        items: list[int] | None = None,
        reason: tuple[str, str] = ("", ""),
    ) -> None:
        event_id = self.ids.event
        self.ids.event += 1
        decided = bangkok_instant(effective - timedelta(days=3))
        self.batch.events.append(
            {
                "id": event_id,
                "accreditation_id": acc_id,
                "kind": kind,
                "effective_date": effective,
                "end_date": until,
                "reason_en": reason[0],
                "reason_th": reason[1],
                "proposed_by_id": self.officer,
                "approved_by_id": self.approver,
                "proposed_at": decided - timedelta(days=4),
                "approved_at": decided,
            }
        )
        for item in items or ():
            self.batch.event_items.append({"event_id": event_id, "scope_item_id": item})


def ensure_demo_staff(conn: Connection) -> tuple[int, int]:
    ids = []
    for email, role in DEMO_STAFF:
        found = conn.scalar(select(StaffUser.id).where(StaffUser.email == email))
        if found is None:
            found = conn.execute(
                insert(StaffUser).values(
                    email=email,
                    name=f"Demo {role.value.replace('_', ' ')}",
                    active=True,
                    created_at=datetime.now(UTC),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                insert(RoleGrant).values(staff_id=found, role=role, granted_at=datetime.now(UTC))
            )
        ids.append(found)
    return ids[0], ids[1]


def _next_id(conn: Connection, column: Any) -> int:
    return (conn.scalar(select(func.max(column))) or 0) + 1


def _chunks(rows: list[dict[str, Any]], size: int = 20_000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def load(conn: Connection, count: int, anchor: date) -> int:
    """Add demo bodies 1..count that are not there yet; return how many were added."""
    wanted = {national_id(i): i for i in range(1, count + 1)}
    present = set(conn.scalars(select(Cab.national_id).where(Cab.national_id.like("0105%"))))
    missing = [i for nid, i in wanted.items() if nid not in present]
    if not missing:
        return 0
    staff = ensure_demo_staff(conn)
    ids = Ids(
        cab=_next_id(conn, Cab.id),
        site=_next_id(conn, Site.id),
        accreditation=_next_id(conn, Accreditation.id),
        scope_item=_next_id(conn, ScopeItem.id),
        event=_next_id(conn, StatusEvent.id),
    )
    generator = Generator(anchor, staff, ids)
    for index in missing:
        generator.add_cab(index)
    batch = generator.batch
    for table, rows in (
        (Cab.__table__, batch.cabs),
        (Site.__table__, batch.sites),
        (Accreditation.__table__, batch.accreditations),
        (ScopeItem.__table__, batch.scope_items),
        (StatusEvent.__table__, batch.events),
        (status_event_item, batch.event_items),
    ):
        for chunk in _chunks(rows):
            conn.execute(insert(table), chunk)
    if conn.dialect.name == "postgresql":
        # Ids were given explicitly: move the sequences past them for later inserts.
        for table in (Cab, Site, Accreditation, ScopeItem, StatusEvent):
            name = table.__tablename__
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
            )
    return len(missing)


def add(session: Session, count: int, anchor: date, now: datetime) -> int:
    """``load`` in the session's transaction, recorded as a development change.

    The whole register is reindexed: a load is a bulk change, and one pass
    over everything is faster than many small ones.
    """
    added = load(session.connection(), count, anchor)
    if added:
        lock(session)
        backfill(session)  # their histories' decisions go to the log, in order
        changes.record(
            session,
            Change(
                action="demo.load",
                target_type="register",
                target_id="demo",
                actor=DEVELOPMENT,
                accreditations=None,
                detail={"bodies": added, "requested": count, "anchor": anchor.isoformat()},
            ),
            now,
        )
    return added
