"""The Atom feed of status decisions, newest first."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..register.models import Accreditation, Cab, StatusEvent
from ..settings import Settings

ATOM = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 100


def status_feed(session: Session, settings: Settings, path: str) -> bytes:
    """The latest approved status decisions as an Atom document served at ``path``."""
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
    base = settings.public_url.rstrip("/")
    host = urlsplit(base).hostname or "localhost"
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(
        feed, f"{{{ATOM}}}title"
    ).text = f"{settings.agency_short}: accreditation status changes"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"tag:{host},2026:status-feed"
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base}{path}")
    ET.SubElement(feed, f"{{{ATOM}}}author").append(_text("name", settings.agency_name_en))
    ET.SubElement(
        feed, f"{{{ATOM}}}rights"
    ).text = f"{settings.data_licence} {settings.data_licence_url}"
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
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _text(tag: str, value: str) -> ET.Element:
    element = ET.Element(f"{{{ATOM}}}{tag}")
    element.text = value
    return element
