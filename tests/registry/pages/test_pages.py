"""The minimal public page and the health check, on both databases."""

from __future__ import annotations

import re
from datetime import date

import pytest

from registry.register.status import EventKind as K
from registry.web import current

from .. import factories


@pytest.fixture
def register(app):
    """Two bodies, one valid and one suspended; the ``app`` fixture rolls them back."""
    with current.database(app).session() as session:
        staff = factories.staff_pair(session)
        valid = factories.accreditation(
            session, granted=date(2024, 1, 15), valid_until=date(2090, 1, 1)
        )
        suspended = factories.accreditation(
            session, granted=date(2024, 1, 15), valid_until=date(2090, 1, 1)
        )
        factories.event(session, valid, K.GRANTED, date(2024, 1, 15), staff=staff)
        factories.event(session, suspended, K.GRANTED, date(2024, 1, 15), staff=staff)
        factories.event(session, suspended, K.SUSPENDED, date(2025, 1, 1), staff=staff)
        session.commit()
    return valid, suspended


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(make_app):
    app = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:9/nowhere")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def hit_badges(page: str) -> list[str]:
    """The status word of each result, as its badge reads (facets are not badges)."""
    return re.findall(
        r'<span class="status status-[a-z_]+"><span aria-hidden="true">.</span> ([^<]+)</span>',
        page,
    )


def digits(number: str) -> str:
    """The digits of an accreditation number: a search, not an identifier."""
    return number.split("-")[1]


def test_index_lists_bodies_with_their_status_word(client, register):
    valid, suspended = register
    page = client.get(f"/?q={digits(valid.number)}&status=all").get_data(as_text=True)
    assert "Siam Test Lab Co., Ltd." in page
    assert "บริษัท สยามเทสต์ แล็บ จำกัด" in page
    assert valid.number in page
    assert hit_badges(page)[0] == "Valid"
    assert f"<title>Search: {digits(valid.number)} · TISI</title>" in page
    page = client.get(f"/?q={digits(suspended.number)}&status=all").get_data(as_text=True)
    assert hit_badges(page)[0] == "Suspended"
    thai = client.get(f"/?q={digits(suspended.number)}&status=all&lang=th")
    assert hit_badges(thai.get_data(as_text=True))[0] == "พักใช้"


def test_index_has_a_json_twin(client, register):
    valid, suspended = register
    statuses = {}
    for acc in register:
        data = client.get(
            f"/?q={digits(acc.number)}&status=all", headers={"Accept": "application/json"}
        )
        statuses.update({r["accreditation"]: r["status"] for r in data.json["results"]})
    assert statuses[valid.number] == "valid"
    assert statuses[suspended.number] == "suspended"
    by_default = client.get("/", headers={"Accept": "application/json"}).json
    assert [r["accreditation"] for r in by_default["results"]] == [valid.number, suspended.number]
    assert by_default["total"] == 2
    assert by_default["query"]["status"] == "all"
    narrowed = client.get("/?status=valid", headers={"Accept": "application/json"}).json
    assert [r["accreditation"] for r in narrowed["results"]] == [valid.number]


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999999999999999", "1%00", "'; DROP", "²"])
def test_hostile_page_numbers_are_answered_safely(client, page):
    response = client.get(f"/?page={page}")
    assert response.status_code == 400
    assert b"parameter page must be a" in response.data
    assert b"Traceback" not in response.data


def test_an_identifier_in_either_box_opens_its_record_whatever_its_status(client, register):
    valid, suspended = register
    with current.database(client.application).session() as session:
        national_id = session.get(type(suspended), suspended.id).cab.national_id
        cab_id = suspended.cab_id
    for typed in (suspended.number, suspended.number.lower(), suspended.number.upper()):
        for url in (f"/?q={typed}", f"/search?q={typed}", f"/c?number={typed}"):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.location == f"/a/{suspended.number}", url
    for typed in (national_id, f"{national_id[0]}-{national_id[1:5]}-{national_id[5:]}"):
        for url in (f"/?q={typed}", f"/c?number={typed}"):
            assert client.get(url).location == f"/cab/{cab_id}", url
    page = client.get(f"/?q={suspended.number.lower()}", follow_redirects=True)
    assert page.status_code == 200
    assert suspended.number in page.get_data(as_text=True)
    # The record page itself takes any case; its JSON twin answers without a detour.
    assert client.get(f"/a/{valid.number.lower()}").location == f"/a/{valid.number}"
    twin = client.get(f"/a/{valid.number.lower()}", headers={"Accept": "application/json"})
    assert twin.status_code == 200
    # A search that merely contains a number stays a search.
    assert client.get(f"/?q={valid.number} rice").status_code == 200
    assert client.get("/?q=Testing-999999").status_code == 200
    assert client.get("/c?number=Testing-999999/R1").location == "/c/Testing-999999/R1"
