"""Staff accounts that log in for real: argon2 password, TOTP code, CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.accounts.credentials import totp_code
from registry.accounts.services import add_staff
from registry.pki.material import create_pki
from registry.register.status import EventKind
from registry.staff.models import StaffRole
from registry.web import current

from .. import factories

PASSWORD = "correct horse battery staple"
_steps: dict[bytes, int] = {}


@dataclass
class Person:
    email: str
    secret: bytes
    id: int

    def code(self) -> str:
        """A code for a time step not used yet (a code is never accepted twice)."""
        now = int(datetime.now(UTC).timestamp()) // 30
        step = max(now - 1, _steps.get(self.secret, now - 2) + 1)
        assert step <= now + 1, "more logins in one minute than the TOTP window allows"
        _steps[self.secret] = step
        return totp_code(self.secret, step * 30)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if found is None:
        found = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


@pytest.fixture
def make_person(app: Flask) -> Callable[..., Person]:
    counter = iter(range(1000))

    def make(*roles: StaffRole, name: str | None = None) -> Person:
        n = next(counter)
        email = f"{roles[0].value}{n}@agency.test"
        with current.database(app).transaction() as session:
            made = add_staff(
                session,
                email,
                name or f"{roles[0].value.replace('_', ' ').title()} {n}",
                set(roles),
                PASSWORD,
                issuer="TISI",
                by=None,
                now=datetime.now(UTC),
            )
            return Person(made.staff.email, made.staff.totp_secret, made.staff.id)

    return make


@pytest.fixture
def login(app: Flask) -> Callable[[Person], FlaskClient]:
    def sign_in(person: Person, client: FlaskClient | None = None) -> FlaskClient:
        client = client or app.test_client()
        page = client.get("/staff/login").get_data(as_text=True)
        response = client.post(
            "/staff/login",
            data={
                "csrf_token": csrf_of(page),
                "email": person.email,
                "password": PASSWORD,
                "code": person.code(),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return client

    return sign_in


@pytest.fixture
def register(app: Flask) -> Any:
    """One valid accreditation with three scope items, and a PKI to sign its certificates."""
    create_pki(current.settings(app))
    with current.database(app).transaction() as session:
        staff = factories.staff_pair(session)
        acc = factories.accreditation(session, items=3, valid_until=date(2090, 1, 1))
        factories.event(session, acc, EventKind.GRANTED, date(2024, 1, 15), staff=staff)
        return {"number": acc.number, "items": [i.id for i in acc.scope_items], "cab": acc.cab_id}


def form_post(client: FlaskClient, page_url: str, action: str, data: dict[str, Any]) -> Any:
    """Open ``page_url`` as a person would, then send one of its forms with its CSRF token."""
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(action, data={"csrf_token": csrf_of(page.get_data(as_text=True)), **data})
