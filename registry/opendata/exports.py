"""The whole register as CSV and JSON, streamed a thousand bodies at a time.

Memory does not grow with the register; the statuses in an export are derived
at the moment it started, and the file says when that was.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..register.models import Accreditation, Cab, ScopeItem, Site
from ..register.shapes import scope_item_json
from ..register.standings import standings
from ..register.status import AccreditationStatus

CHUNK = 1000

CSV_COLUMNS = (
    "cab_id",
    "cab_name_en",
    "cab_name_th",
    "national_id",
    "cab_email",
    "cab_phone",
    "cab_website",
    "accreditation_number",
    "programme",
    "standard",
    "accreditation_status",
    "valid_from",
    "valid_until",
    "scope_item_id",
    "item_status",
    "site_name_en",
    "province_en",
    "country",
    "field_en",
    "field_th",
    "product_en",
    "product_th",
    "parameter_en",
    "parameter_th",
    "method",
    "range",
    "cmc",
)


def register_chunks(session: Session, now: datetime) -> Iterator[list[dict[str, Any]]]:
    """The public register, body by body, a chunk at a time."""
    last = 0
    while True:
        cabs = session.execute(
            select(
                Cab.id, Cab.name_en, Cab.name_th, Cab.national_id, Cab.email, Cab.phone, Cab.website
            )
            .where(Cab.id > last)
            .order_by(Cab.id)
            .limit(CHUNK)
        ).all()
        if not cabs:
            return
        last = cabs[-1].id
        ids = [c.id for c in cabs]
        sites = {
            s.id: s
            for s in session.execute(
                select(Site.id, Site.cab_id, Site.name_en, Site.province_en, Site.country).where(
                    Site.cab_id.in_(ids)
                )
            )
        }
        accs = (
            session.execute(
                select(Accreditation)
                .where(Accreditation.cab_id.in_(ids))
                .order_by(Accreditation.id)
            )
            .scalars()
            .all()
        )
        found = standings(session, now, [a.id for a in accs])
        items: dict[int, list[ScopeItem]] = defaultdict(list)
        for item in session.scalars(
            select(ScopeItem)
            .where(ScopeItem.accreditation_id.in_([a.id for a in accs]))
            .order_by(ScopeItem.id)
        ):
            items[item.accreditation_id].append(item)
        by_cab: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for acc in accs:
            standing = found[acc.id]
            if standing.status is AccreditationStatus.PENDING:
                continue
            by_cab[acc.cab_id].append(
                {
                    "number": acc.number,
                    "programme": acc.programme.value,
                    "standard": acc.standard,
                    "status": standing.status.value,
                    "valid_from": acc.valid_from.isoformat(),
                    "valid_until": acc.valid_until.isoformat(),
                    "scope": [
                        {
                            **scope_item_json(i, standing.items[i.id]),
                            "site": sites[i.site_id].name_en,
                            "province_en": sites[i.site_id].province_en,
                            "country": sites[i.site_id].country,
                        }
                        for i in items[acc.id]
                        if standing.items[i.id].value != "pending"
                    ],
                }
            )
        session.expunge_all()
        yield [
            {
                "id": c.id,
                "name_en": c.name_en,
                "name_th": c.name_th,
                "national_id": c.national_id,
                "email": c.email,
                "phone": c.phone,
                "website": c.website,
                "accreditations": by_cab[c.id],
            }
            for c in cabs
            if by_cab[c.id]
        ]


def csv_lines(session: Session, now: datetime) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    buffer.write("\ufeff")  # so that spreadsheet programs read the Thai as UTF-8
    writer.writerow(CSV_COLUMNS)
    yield flush()
    for chunk in register_chunks(session, now):
        for cab in chunk:
            for acc in cab["accreditations"]:
                for item in acc["scope"]:
                    writer.writerow(
                        [
                            cab["id"],
                            cab["name_en"],
                            cab["name_th"],
                            cab["national_id"],
                            cab["email"] or "",
                            cab["phone"] or "",
                            cab["website"] or "",
                            acc["number"],
                            acc["programme"],
                            acc["standard"],
                            acc["status"],
                            acc["valid_from"],
                            acc["valid_until"],
                            item["id"],
                            item["status"],
                            item["site"],
                            item["province_en"] or "",
                            item["country"],
                            item["field_en"],
                            item["field_th"],
                            item["product_en"],
                            item["product_th"],
                            item["parameter_en"],
                            item["parameter_th"],
                            item["method"],
                            item["range"] or "",
                            item["cmc"] or "",
                        ]
                    )
        yield flush()


def json_parts(
    session: Session, now: datetime, publisher: dict[str, str], licence: dict[str, str]
) -> Iterator[str]:
    head = {
        "generated_at": now.isoformat(timespec="seconds"),
        "publisher": publisher,
        "license": licence,
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "cabs": ['
    first = True
    for chunk in register_chunks(session, now):
        for cab in chunk:
            yield ("" if first else ",\n") + json.dumps(cab, ensure_ascii=False)
            first = False
    yield "]}\n"
