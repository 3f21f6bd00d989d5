"""The whole register as CSV and JSON, produced a thousand bodies at a time.

Memory does not grow with the register; the statuses in an export are derived
at the moment it started, and the file says when that was. ``files`` writes
these parts to disk from one snapshot; nothing streams them straight from the
database to a client, where a failure could only end the file early.

Columns are only ever added at the end of ``CSV_COLUMNS``: a reader that
picks columns by position keeps working. Their meaning is in the README.
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

from ..certificates.models import Certificate
from ..register.models import Accreditation, Cab, ScopeItem, Site
from ..register.shapes import scope_item_json, site_json
from ..register.standings import standings
from ..register.status import AccreditationStatus, DocumentStatus, ItemState, document_status

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
    # Added for issue 15, after the first columns so that their positions hold.
    "site_name_th",
    "site_address_en",
    "site_address_th",
    "province_th",
    "status_since",
    "status_until",
    "status_reason_en",
    "status_reason_th",
    "current_certificate",
    "current_certificate_url",
)

ITEM_COLUMNS = (
    ScopeItem.id,
    ScopeItem.accreditation_id,
    ScopeItem.site_id,
    ScopeItem.field_en,
    ScopeItem.field_th,
    ScopeItem.product_en,
    ScopeItem.product_th,
    ScopeItem.parameter_en,
    ScopeItem.parameter_th,
    ScopeItem.method,
    ScopeItem.range_text,
    ScopeItem.cmc_text,
)

#: A certificate revision is the current one only while its accreditation lets it be.
CURRENT = (DocumentStatus.CURRENT, DocumentStatus.PARTIALLY_SUSPENDED)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def register_chunks(
    session: Session, now: datetime, base: str = ""
) -> Iterator[list[dict[str, Any]]]:
    """The public register, body by body, a chunk at a time; ``base`` prefixes the URLs.

    Each line's status is ``Standing.public_items``: the one derivation, capped
    by its accreditation's status, so a withdrawn accreditation has no active line.
    """
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
            for s in session.scalars(select(Site).where(Site.cab_id.in_(ids)).order_by(Site.id))
        }
        cab_sites: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for site in sites.values():
            cab_sites[site.cab_id].append(site_json(site))
        accs = (
            session.execute(
                select(Accreditation)
                .where(Accreditation.cab_id.in_(ids))
                .order_by(Accreditation.id)
            )
            .scalars()
            .all()
        )
        acc_ids = [a.id for a in accs]
        found = standings(session, now, acc_ids)
        latest: dict[int, str] = {}
        for acc_id, number in session.execute(
            select(Certificate.accreditation_id, Certificate.number)
            .where(Certificate.accreditation_id.in_(acc_ids))
            .order_by(Certificate.accreditation_id, Certificate.revision)
        ):
            latest[acc_id] = number  # the last row per accreditation is its latest revision
        # Rows, not ORM objects: ``scope_line`` reads the same attribute names from
        # either, and building a million mapped objects costs most of an export's time.
        items: dict[int, list[Any]] = defaultdict(list)
        for item in session.execute(
            select(*ITEM_COLUMNS)
            .where(ScopeItem.accreditation_id.in_(acc_ids))
            .order_by(ScopeItem.id)
        ):
            items[item.accreditation_id].append(item)
        by_cab: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for acc in accs:
            standing = found[acc.id]
            if standing.status is AccreditationStatus.PENDING:
                continue
            states = standing.public_items
            number = latest.get(acc.id)
            current = (
                {
                    "number": number,
                    "url": f"{base}/c/{number}",
                    "pdf": f"{base}/c/{number}.pdf",
                }
                if number and document_status(standing, latest=True) in CURRENT
                else None
            )
            reason = standing.reason
            by_cab[acc.cab_id].append(
                {
                    "number": acc.number,
                    "programme": acc.programme.value,
                    "standard": acc.standard,
                    "status": standing.status.value,
                    "status_since": _iso(standing.since),
                    "status_until": _iso(standing.until),
                    "status_reason_en": str(reason) if reason else None,
                    "status_reason_th": getattr(reason, "th", reason) if reason else None,
                    "valid_from": acc.valid_from.isoformat(),
                    "valid_until": acc.valid_until.isoformat(),
                    "current_certificate": current,
                    "scope": [
                        {
                            **scope_item_json(i, states[i.id]),
                            "site": sites[i.site_id].name_en,
                            "site_name_th": sites[i.site_id].name_th,
                            "site_address_en": sites[i.site_id].address_en,
                            "site_address_th": sites[i.site_id].address_th,
                            "province_en": sites[i.site_id].province_en,
                            "province_th": sites[i.site_id].province_th,
                            "country": sites[i.site_id].country,
                        }
                        for i in items[acc.id]
                        if states[i.id] is not ItemState.PENDING
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
                "sites": cab_sites[c.id],
                "accreditations": by_cab[c.id],
            }
            for c in cabs
            if by_cab[c.id]
        ]


def csv_lines(session: Session, now: datetime, base: str = "") -> Iterator[str]:
    """The register as CSV text, one chunk of bodies per part, header first."""
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
    for chunk in register_chunks(session, now, base):
        for cab in chunk:
            for acc in cab["accreditations"]:
                certificate = acc["current_certificate"] or {}
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
                            item["site_name_th"],
                            item["site_address_en"],
                            item["site_address_th"],
                            item["province_th"] or "",
                            acc["status_since"] or "",
                            acc["status_until"] or "",
                            acc["status_reason_en"] or "",
                            acc["status_reason_th"] or "",
                            certificate.get("number", ""),
                            certificate.get("url", ""),
                        ]
                    )
        yield flush()


def json_parts(
    session: Session,
    now: datetime,
    publisher: dict[str, str],
    licence: dict[str, str],
    base: str = "",
) -> Iterator[str]:
    """The register as one JSON document, in parts: the head, then a chunk of bodies each."""
    head = {
        "generated_at": now.isoformat(timespec="seconds"),
        "publisher": publisher,
        "license": licence,
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "cabs": ['
    first = True
    for chunk in register_chunks(session, now, base):
        for cab in chunk:
            yield ("" if first else ",\n") + json.dumps(cab, ensure_ascii=False)
            first = False
    yield "]}\n"
