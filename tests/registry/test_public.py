"""The minimal public page and the health check, on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from registry.db import get_engine
from registry.status import EventKind as K

from . import factories


@pytest.fixture
def register(app):
    """Two bodies, one valid and one suspended, committed to the app's database.

    The database is shared by the session's tests, so assertions look for these
    rows rather than counting the whole register.
    """
    engine = get_engine(app)
    with Session(engine, expire_on_commit=False) as session:
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


def test_index_lists_bodies_with_a_status_word(client, register):
    valid, _ = register
    page = client.get(f"/?q={valid.number}&status=all").get_data(as_text=True)
    assert "Siam Test Lab Co., Ltd." in page
    assert "บริษัท สยามเทสต์ แล็บ จำกัด" in page
    assert valid.number in page
    assert "Suspended" in page  # the status facet
    assert "Valid" in page


def test_index_has_a_json_twin(client, register):
    valid, suspended = register
    statuses = {}
    for acc in register:
        data = client.get(f"/?q={acc.number}&status=all", headers={"Accept": "application/json"})
        statuses.update({r["accreditation"]: r["status"] for r in data.json["results"]})
    assert statuses[valid.number] == "valid"
    assert statuses[suspended.number] == "suspended"
    by_default = client.get("/", headers={"Accept": "application/json"}).json
    assert {r["status"] for r in by_default["results"]} == {"valid"}


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999999999999999", "1%00", "'; DROP"])
def test_hostile_page_numbers_are_answered_safely(client, page):
    response = client.get(f"/?page={page}")
    assert response.status_code == 400
    assert b"page must be a number" in response.data
    assert b"Traceback" not in response.data
