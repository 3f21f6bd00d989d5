"""Atom feeds per register, body and accreditation, in English and Thai, archived (RFC 5005)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest

from registry.dates import local_date
from registry.opendata import feeds
from registry.register.status import EventKind
from registry.web import current

from .. import factories

A = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TODAY = local_date(datetime.now(UTC))
#: Small pages, so that a handful of decisions fills several.
PAGE = 3


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr(feeds, "PAGE", PAGE)


def body_with_decisions(app, decisions: int) -> tuple[int, str]:
    """A granted accreditation with ``decisions`` more decisions (suspend, reinstate, ...)."""
    with current.database(app).transaction() as session:
        acc = factories.accreditation(
            session, name_en="Feed Lab Co., Ltd.", name_th="บริษัท ฟีดแล็บ จำกัด"
        )
        staff = factories.staff_pair(session)
        factories.event(session, acc, EventKind.GRANTED, acc.valid_from, staff=staff)
        for k in range(decisions):
            kind = EventKind.SUSPENDED if k % 2 == 0 else EventKind.REINSTATED
            factories.event(
                session,
                acc,
                kind,
                TODAY - timedelta(days=decisions - k),
                staff=staff,
                reason=f"Decision {k}" if kind is EventKind.SUSPENDED else "",
            )
        return acc.cab_id, acc.number


def atom(client, url: str) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200, (url, response.data[:300])
    assert response.mimetype == "application/atom+xml"
    assert response.headers["Link"].endswith('rel="license"')
    root = ET.fromstring(response.data)  # well-formed, or this raises
    assert_atom(root)
    return root


def assert_atom(root: ET.Element) -> None:
    """What RFC 4287 requires of a feed and of each entry."""
    assert root.tag == f"{A}feed"
    assert root.findtext(f"{A}id", "").startswith("tag:")
    assert root.findtext(f"{A}title")
    datetime.fromisoformat(root.findtext(f"{A}updated"))
    assert root.find(f"{A}author/{A}name") is not None
    assert links(root)["self"]
    ids = [e.findtext(f"{A}id") for e in root.findall(f"{A}entry")]
    assert len(ids) == len(set(ids)) and all(i and i.startswith("tag:") for i in ids)
    for entry in root.findall(f"{A}entry"):
        assert entry.findtext(f"{A}title")
        datetime.fromisoformat(entry.findtext(f"{A}updated"))
        assert entry.find(f"{A}link").get("href").startswith("http")
        assert entry.findtext(f"{A}summary")


def links(root: ET.Element) -> dict[str, str]:
    return {link.get("rel"): link.get("href") for link in root.findall(f"{A}link")}


def path(url: str) -> str:
    return url[url.index("/", len("http://")) :]


def entry_ids(root: ET.Element) -> list[str]:
    return [e.findtext(f"{A}id") for e in root.findall(f"{A}entry")]


@pytest.mark.parametrize("kind", ["cab", "a"])
def test_a_feed_per_body_and_accreditation_is_paged_as_archives(app, kind):
    cab_id, number = body_with_decisions(app, 7)  # 8 decisions: two full pages and two more
    client = app.test_client()
    url = f"/feeds/cab/{cab_id}.atom" if kind == "cab" else f"/feeds/a/{number}.atom"
    current_doc = atom(client, url)
    assert current_doc.find(f"{FH}archive") is None
    assert len(current_doc.findall(f"{A}entry")) == PAGE  # the newest
    found = links(current_doc)
    assert path(found["self"]) == url
    assert path(found["alternate"]) == (f"/cab/{cab_id}" if kind == "cab" else f"/a/{number}")
    newest = path(found["prev-archive"])
    assert newest.endswith("/archive/2.atom")

    second = atom(client, newest)
    assert second.find(f"{FH}archive") is not None
    assert path(links(second)["current"]) == url
    assert "next-archive" not in links(second)
    first = atom(client, path(links(second)["prev-archive"]))
    assert first.find(f"{FH}archive") is not None
    assert "prev-archive" not in links(first)
    assert path(links(first)["next-archive"]) == newest
    # Every decision is in the archives or the subscription document, once each.
    seen = entry_ids(first) + entry_ids(second)
    assert len(seen) == len(set(seen)) == 2 * PAGE
    assert len(set(seen) | set(entry_ids(current_doc))) == 8
    # Oldest first across pages: the grant opens page 1.
    assert first.findall(f"{A}entry")[-1].find(f"{A}category").get("term") == "granted"
    assert client.get(newest.replace("/2.atom", "/3.atom")).status_code == 404  # not complete


def test_archive_pages_are_stable_and_cacheable(app):
    _cab_id, number = body_with_decisions(app, 2)  # 3 decisions: one full page
    client = app.test_client()
    url = f"/feeds/a/{number}/archive/1.atom"
    before = client.get(url)
    assert before.status_code == 200
    assert int(before.cache_control.max_age) >= 3600 and before.cache_control.public
    etag = before.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    factories.decide(app, number, EventKind.SUSPENDED)
    factories.decide(app, number, EventKind.REINSTATED)
    after = client.get(url)
    assert after.data == before.data and after.headers["ETag"] == etag
    assert client.get(f"/feeds/a/{number}/archive/2.atom").status_code == 404  # 5 of 6


def test_thai_feeds_speak_thai_with_buddhist_era_dates(app):
    cab_id, number = body_with_decisions(app, 1)
    client = app.test_client()
    english = atom(client, f"/feeds/cab/{cab_id}.atom")
    thai = atom(client, f"/feeds/cab/{cab_id}.atom?lang=th")
    assert english.get(LANG) == "en" and thai.get(LANG) == "th"
    assert english.findtext(f"{A}id") != thai.findtext(f"{A}id")
    title = thai.find(f"{A}entry").findtext(f"{A}title")
    assert "บริษัท ฟีดแล็บ จำกัด" in title and number in title
    summary = " ".join(e.findtext(f"{A}summary") for e in thai.findall(f"{A}entry"))
    assert f"พ.ศ. {TODAY.year + 543}" in summary or f"พ.ศ. {TODAY.year + 542}" in summary
    assert str(TODAY.year) not in summary  # no Common Era year in the Thai text
    assert "effective" not in summary and "มีผลตั้งแต่" in summary
    assert "การเปลี่ยนแปลงสถานะ" in thai.findtext(f"{A}title")
    assert "Feed Lab" not in thai.find(f"{A}entry").findtext(f"{A}title")
    for href in links(thai).values():
        assert href.endswith("?lang=th") or "license" in href or "creativecommons" in href
    assert all(
        e.find(f"{A}link").get("href").endswith("?lang=th") for e in thai.findall(f"{A}entry")
    )
    assert "Feed Lab Co., Ltd." in english.find(f"{A}entry").findtext(f"{A}title")


def test_the_register_feed_keeps_its_address_and_is_archived(app):
    body_with_decisions(app, 5)
    client = app.test_client()
    root = atom(client, "/feeds/status.atom")
    assert len(root.findall(f"{A}entry")) == PAGE
    newest = path(links(root)["prev-archive"])
    assert newest.startswith("/feeds/status/archive/")
    archived = atom(client, newest)
    assert archived.find(f"{FH}archive") is not None
    assert path(links(archived)["current"]) == "/feeds/status.atom"


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/cab/999999.atom",
        "/feeds/cab/99999999999.atom",
        "/feeds/a/Testing-9999.atom",
        "/feeds/a/Testing-9999/archive/1.atom",
        "/feeds/status/archive/0.atom",
        "/feeds/status/archive/999999.atom",
    ],
)
def test_unknown_feeds_are_404(app, url):
    response = app.test_client().get(url)
    assert response.status_code == 404
    assert b"Traceback" not in response.data


def test_record_pages_link_their_feeds(app):
    cab_id, number = body_with_decisions(app, 0)
    client = app.test_client()
    for page, feed in (
        (f"/cab/{cab_id}", f"/feeds/cab/{cab_id}.atom"),
        (f"/a/{number}", f"/feeds/a/{number}.atom"),
    ):
        for lang in ("en", "th"):
            html = client.get(f"{page}?lang={lang}").get_data(as_text=True)
            head, body = html.split("</head>", 1)
            href = feed + ("?lang=th" if lang == "th" else "")
            assert '<link rel="alternate" type="application/atom+xml"' in head
            assert f'href="{href}"' in head, (page, lang)
            assert f'href="{href}"' in body  # a visible link too
