"""Open data: the whole register as CSV and JSON, and an Atom feed of status changes.

Exports are streamed a thousand bodies at a time, so their memory does not
grow with the register; the statuses in them are derived at the moment the
export started, and the file says when that was.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, request, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from .caching import public_page
from .db import get_session
from .models import Accreditation, Cab, ScopeItem, Site, StatusEvent
from .records import scope_item_json
from .standings import standings
from .status import AccreditationStatus

bp = Blueprint("opendata", __name__)

CHUNK = 1000
FEED_ENTRIES = 100

CSV_COLUMNS = (
    "cab_id",
    "cab_name_en",
    "cab_name_th",
    "national_id",
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
            select(Cab.id, Cab.name_en, Cab.name_th, Cab.national_id)
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


def json_parts(session: Session, now: datetime) -> Iterator[str]:
    head = {"generated_at": now.isoformat(timespec="seconds"), "publisher": agency()}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "cabs": ['
    first = True
    for chunk in register_chunks(session, now):
        for cab in chunk:
            yield ("" if first else ",\n") + json.dumps(cab, ensure_ascii=False)
            first = False
    yield "]}\n"


def agency() -> dict[str, str]:
    config = current_app.config
    return {
        "name_en": config["AGENCY_NAME_EN"],
        "name_th": config["AGENCY_NAME_TH"],
        "short": config["AGENCY_SHORT"],
    }


@bp.get("/exports/registry.<any(csv, json):fmt>")
def export(fmt: str) -> Response:
    now = datetime.now(UTC)
    session = get_session()
    stamp = now.strftime("%Y%m%d")
    if fmt == "csv":
        body, mimetype = csv_lines(session, now), "text/csv"
    else:
        body, mimetype = json_parts(session, now), "application/json"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="registry-{stamp}.{fmt}"'
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


ATOM = "http://www.w3.org/2005/Atom"


@bp.get("/feeds/status.atom")
@public_page
def status_feed() -> Response:
    """The latest approved status decisions, newest first."""
    session = get_session()
    rows = session.execute(
        select(
            StatusEvent.id,
            StatusEvent.kind,
            StatusEvent.effective_date,
            StatusEvent.end_date,
            StatusEvent.reason_en,
            StatusEvent.approved_at,
            Accreditation.number,
            Cab.name_en,
        )
        .join(Accreditation, Accreditation.id == StatusEvent.accreditation_id)
        .join(Cab, Cab.id == Accreditation.cab_id)
        .where(StatusEvent.approved_at.is_not(None))
        .order_by(StatusEvent.approved_at.desc(), StatusEvent.id.desc())
        .limit(FEED_ENTRIES)
    ).all()
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    host = urlsplit(base).hostname or "localhost"
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(
        feed, f"{{{ATOM}}}title"
    ).text = f"{current_app.config['AGENCY_SHORT']}: accreditation status changes"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"tag:{host},2026:status-feed"
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base}{request.path}")
    ET.SubElement(feed, f"{{{ATOM}}}author").append(_text("name", agency()["name_en"]))
    updated = rows[0].approved_at if rows else datetime(2026, 1, 1, tzinfo=UTC)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated.isoformat(timespec="seconds")
    for row in rows:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        what = row.kind.value.replace("_", " ")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"{row.number} {what}: {row.name_en}"
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"tag:{host},2026:status-event/{row.id}"
        ET.SubElement(entry, f"{{{ATOM}}}link", href=f"{base}/a/{row.number}")
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = row.approved_at.isoformat(
            timespec="seconds"
        )
        summary = f"{what.capitalize()}, effective {row.effective_date.isoformat()}"
        if row.end_date:
            summary += f", until {row.end_date.isoformat()}"
        if row.reason_en:
            summary += f". Reason: {row.reason_en}"
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = summary
        ET.SubElement(entry, f"{{{ATOM}}}category", term=row.kind.value)
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype="application/atom+xml")


def _text(tag: str, value: str) -> ET.Element:
    element = ET.Element(f"{{{ATOM}}}{tag}")
    element.text = value
    return element
