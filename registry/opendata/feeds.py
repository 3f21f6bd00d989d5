"""Atom feeds of status decisions: the whole register, one body, one accreditation.

Each feed is an RFC 5005 *archived feed*: the subscription document holds the
newest ``PAGE`` decisions and links (``prev-archive``) to the newest archive
page; archive page ``k`` holds decisions ``(k-1)*PAGE`` to ``k*PAGE - 1`` in
the order they entered the transparency log, so a complete page never changes
its entries and can be cached for a long time. Only complete pages are
archived; the subscription document overlaps the newest one (clients drop
entries they have by their ids, as RFC 5005 says). Archive pages carry
``<fh:archive/>``, ``current`` and ``prev-archive``/``next-archive``.

``lang`` is ``en`` or ``th``: titles and summaries in that language (through
Babel, inside ``force_locale``), dates written as text in Buddhist Era years
in Thai, links that keep ``?lang=th``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ..dates import format_date_be
from ..register.models import Accreditation, Cab, StatusEvent
from ..settings import Settings
from ..web.i18n import event_label

ATOM = "http://www.w3.org/2005/Atom"
#: RFC 5005 feed history.
FH = "http://purl.org/syndication/history/1.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: Entries in the subscription document and in each archive page.
PAGE = 50
#: Before the first decision, a feed says it was last updated at this fixed moment.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
LANGS = ("en", "th")

ET.register_namespace("", ATOM)
ET.register_namespace("fh", FH)


@dataclass(frozen=True)
class Feed:
    """Which decisions a feed holds, where it lives and what it is called."""

    #: ``status``, ``cab/<id>`` or ``a/<number>``: its place under ``/feeds/``.
    key: str
    #: Only decisions on these accreditations (None: every one).
    condition: ColumnElement[bool] | None
    title_en: str
    title_th: str
    #: The page the feed is about, if there is one (``/cab/1``, ``/a/Testing-0001``).
    page: str | None = None

    @property
    def path(self) -> str:
        return f"/feeds/{self.key}.atom"

    def archive_path(self, number: int) -> str:
        return f"/feeds/{self.key}/archive/{number}.atom"


def register_feed(settings: Settings) -> Feed:
    return Feed("status", None, settings.agency_short, settings.agency_short)


def cab_feed(session: Session, cab_id: int) -> Feed | None:
    """The feed of one body's decisions, or None when there is no such body."""
    found = session.execute(select(Cab.name_en, Cab.name_th).where(Cab.id == cab_id)).one_or_none()
    if found is None:
        return None
    return Feed(f"cab/{cab_id}", Accreditation.cab_id == cab_id, *found, page=f"/cab/{cab_id}")


def accreditation_feed(session: Session, number: str) -> Feed | None:
    """The feed of one accreditation's decisions, or None when it is not in the register."""
    if not session.scalar(select(func.count()).where(Accreditation.number == number)):
        return None
    return Feed(f"a/{number}", Accreditation.number == number, number, number, page=f"/a/{number}")


def _base_query(feed: Feed) -> Any:
    query = (
        select(
            StatusEvent.id,
            StatusEvent.kind,
            StatusEvent.effective_date,
            StatusEvent.end_date,
            StatusEvent.reason_en,
            StatusEvent.reason_th,
            StatusEvent.approved_at,
            Accreditation.number,
            Cab.name_en,
            Cab.name_th,
        )
        .join(Accreditation, Accreditation.id == StatusEvent.accreditation_id)
        .join(Cab, Cab.id == Accreditation.cab_id)
        .where(StatusEvent.approved_at.is_not(None))
    )
    return query if feed.condition is None else query.where(feed.condition)


def _total(session: Session, feed: Feed) -> int:
    return session.scalar(select(func.count()).select_from(_base_query(feed).subquery())) or 0


#: The log's order: fixed at approval, under the register's lock, so pages never reshuffle.
def _log_order() -> tuple[Any, ...]:
    return (StatusEvent.log_index.asc().nulls_first(), StatusEvent.id.asc())


def complete_pages(total: int) -> int:
    return total // PAGE


def subscription(session: Session, settings: Settings, feed: Feed, lang: str) -> bytes:
    """The subscription document: the newest ``PAGE`` decisions, newest first."""
    total = _total(session, feed)
    rows = session.execute(
        _base_query(feed)
        .order_by(StatusEvent.log_index.desc().nulls_last(), StatusEvent.id.desc())
        .limit(PAGE)
    ).all()
    pages = complete_pages(total)
    links = [("self", feed.path)]
    if pages:
        links.append(("prev-archive", feed.archive_path(pages)))
    return _document(settings, feed, lang, rows, links, archive=False)


def archive(
    session: Session, settings: Settings, feed: Feed, number: int, lang: str
) -> bytes | None:
    """Archive page ``number`` (from 1, oldest first), or None while it is not complete."""
    pages = complete_pages(_total(session, feed))
    if not 1 <= number <= pages:
        return None
    rows = session.execute(
        _base_query(feed).order_by(*_log_order()).offset((number - 1) * PAGE).limit(PAGE)
    ).all()
    links = [("self", feed.archive_path(number)), ("current", feed.path)]
    if number > 1:
        links.append(("prev-archive", feed.archive_path(number - 1)))
    if number < pages:
        links.append(("next-archive", feed.archive_path(number + 1)))
    return _document(settings, feed, lang, list(reversed(rows)), links, archive=True)


def _document(
    settings: Settings,
    feed: Feed,
    lang: str,
    rows: Sequence[Any],
    links: list[tuple[str, str]],
    *,
    archive: bool,
) -> bytes:
    base = settings.public_url.rstrip("/")
    host = urlsplit(base).hostname or "localhost"
    query = "?lang=th" if lang == "th" else ""
    thai = lang == "th"
    with force_locale(lang):
        root = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: lang})
        name = feed.title_th if thai else feed.title_en
        title = (
            _("%(agency)s: accreditation status changes", agency=name)
            if feed.key == "status"
            else _("%(name)s: status changes", name=name)
        )
        _text(root, "title", title)
        suffix = ":th" if thai else ""
        feed_id = "status-feed" if feed.key == "status" else f"{feed.key}/status-feed"
        _text(root, "id", f"tag:{host},2026:{feed_id}{suffix}")
        for rel, path in links:
            ET.SubElement(
                root,
                f"{{{ATOM}}}link",
                rel=rel,
                href=f"{base}{path}{query}",
                type="application/atom+xml",
            )
        if feed.page:
            ET.SubElement(
                root, f"{{{ATOM}}}link", rel="alternate", href=f"{base}{feed.page}{query}"
            )
        ET.SubElement(root, f"{{{ATOM}}}link", rel="license", href=settings.data_licence_url)
        author = ET.SubElement(root, f"{{{ATOM}}}author")
        _text(author, "name", settings.agency_name_th if thai else settings.agency_name_en)
        _text(root, "rights", f"{settings.data_licence} {settings.data_licence_url}")
        updated = max((r.approved_at for r in rows), default=EPOCH)
        _text(root, "updated", updated.isoformat(timespec="seconds"))
        if archive:
            ET.SubElement(root, f"{{{FH}}}archive")
        for row in rows:
            _entry(root, row, base, host, lang, query)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _entry(root: ET.Element, row: Any, base: str, host: str, lang: str, query: str) -> None:
    """One decision; the caller holds ``force_locale(lang)``."""
    thai = lang == "th"
    entry = ET.SubElement(root, f"{{{ATOM}}}entry")
    what = event_label(row.kind.value)
    body = row.name_th if thai else row.name_en
    _text(entry, "title", f"{row.number} · {what}: {body}")
    _text(entry, "id", f"tag:{host},2026:status-event/{row.id}" + ("/th" if thai else ""))
    ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/a/{row.number}{query}")
    _text(entry, "updated", row.approved_at.isoformat(timespec="seconds"))
    _text(entry, "published", row.approved_at.isoformat(timespec="seconds"))
    summary = _(
        "%(what)s, effective %(date)s", what=what, date=format_date_be(row.effective_date, lang)
    )
    if row.end_date:
        summary += ", " + _("until %(date)s", date=format_date_be(row.end_date, lang))
    reason = (row.reason_th or row.reason_en) if thai else (row.reason_en or row.reason_th)
    if reason:
        summary += ". " + _("Reason: %(reason)s", reason=reason)
    _text(entry, "summary", summary)
    ET.SubElement(entry, f"{{{ATOM}}}category", term=row.kind.value, label=what)


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    element.text = value
    return element
