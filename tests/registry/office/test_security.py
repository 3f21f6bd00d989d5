"""The back office's locks: login, CSRF, roles, lockout, session expiry, TOTP replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import url_for
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from registry.accounts import services
from registry.accounts.credentials import check_totp, totp_code
from registry.accounts.services import LoginRefused, authenticate, open_session, resolve_session
from registry.cases import workflow
from registry.cases.models import CaseKind
from registry.changes import AuditEntry
from registry.staff.models import StaffRole, StaffSession, StaffUser
from registry.web import current

from .conftest import PASSWORD, csrf_of

NOW = datetime.now(UTC)


def data_changing_routes(app) -> list[str]:
    """Every back-office address that accepts POST, with sample values for its parts."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint.split(".")[0] not in (
            "cases",
            "bodies",
            "office",
        ):
            continue
        if rule.endpoint == "office.login":
            continue
        values = {a: 1 if "id" in a else "Testing-0001" for a in rule.arguments}
        values.update({k: "suspension" for k in rule.arguments if k == "kind"})
        with app.test_request_context():
            urls.append(url_for(rule.endpoint, **values))
    return urls


def test_every_data_changing_route_refuses_anonymous_callers(app):
    client = app.test_client()
    urls = data_changing_routes(app)
    assert len(urls) >= 15, urls
    for url in urls:
        page = client.post(url, data={})
        assert page.status_code in (302, 400), url
        json = client.post(url, data={}, headers={"Accept": "application/json"})
        assert json.status_code in (400, 401), url
    # With a valid CSRF token but no session: login page for people, 401 for programs.
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    for url in urls:
        page = client.post(url, data={"csrf_token": token})
        assert page.status_code == 302 and "/staff/login" in page.headers["Location"], url
        json = client.post(url, data={"csrf_token": token}, headers={"Accept": "application/json"})
        assert json.status_code == 401 and json.json["error"]["code"] == "login_required", url


def test_a_request_without_a_csrf_token_is_400_even_when_logged_in(
    app, register, make_person, login
):
    client = login(make_person(StaffRole.OFFICER))
    response = client.post(
        f"/staff/accreditations/{register['number']}/propose/suspension",
        data={"effective": NOW.date().isoformat(), "reason_en": "x", "reason_th": "x"},
    )
    assert response.status_code == 400
    assert "The form has expired or did not come from this site" in response.get_data(as_text=True)


def test_read_pages_need_a_login_too(app):
    client = app.test_client()
    for url in ("/staff/", "/staff/cases", "/staff/audit", "/staff/accounts", "/staff/cabs/"):
        assert client.get(url).status_code == 302, url
        assert client.get(url, headers={"Accept": "application/json"}).status_code == 401, url


def test_roles_are_enforced(app, register, make_person, login):
    auditor = login(make_person(StaffRole.AUDITOR))
    assert auditor.get("/staff/audit").status_code == 200
    page = auditor.get(f"/staff/accreditations/{register['number']}").get_data(as_text=True)
    assert "Propose an act" not in page
    forbidden = auditor.post(
        f"/staff/accreditations/{register['number']}/propose/suspension",
        data={"csrf_token": csrf_of(page)},
    )
    assert forbidden.status_code == 403
    officer = login(make_person(StaffRole.OFFICER))
    assert officer.get("/staff/audit").status_code == 403
    assert officer.get("/staff/accounts").status_code == 403


def test_ten_failures_lock_the_account_and_the_address(app, make_person):
    person = make_person(StaffRole.OFFICER)
    database = current.database(app)
    for _ in range(services.LOCKOUT_FAILURES):
        with database.transaction() as session, pytest.raises(LoginRefused, match="not right"):
            authenticate(
                session, person.email, "wrong password!!", "000000", address="10.0.0.1", now=NOW
            )
    with database.transaction() as session, pytest.raises(LoginRefused, match="Too many failed"):
        authenticate(session, person.email, PASSWORD, person.code(), address="10.0.0.9", now=NOW)
    # The address is locked for every account, the account from every address.
    other = make_person(StaffRole.OFFICER)
    with database.transaction() as session, pytest.raises(LoginRefused, match="Too many failed"):
        authenticate(session, other.email, PASSWORD, other.code(), address="10.0.0.1", now=NOW)
    later = NOW + services.LOCKOUT_WINDOW + timedelta(seconds=1)
    with database.transaction() as session:
        staff = authenticate(
            session,
            person.email,
            PASSWORD,
            totp_code(person.secret, later.timestamp()),
            address="10.0.0.9",
            now=later,
        )
        assert staff.email == person.email


def test_a_totp_code_is_never_accepted_twice_and_drift_is_one_step(app, make_person):
    person = make_person(StaffRole.OFFICER)
    at = NOW.timestamp()
    code = totp_code(person.secret, at)
    first = check_totp(person.secret, code, at, None)
    assert first.accepted
    assert not check_totp(person.secret, code, at, first.step).accepted, "replayed"
    assert check_totp(person.secret, totp_code(person.secret, at - 30), at, None).accepted
    assert not check_totp(person.secret, totp_code(person.secret, at - 90), at, None).accepted
    assert not check_totp(person.secret, "12345", at, None).accepted
    database = current.database(app)
    with database.transaction() as session:
        authenticate(session, person.email, PASSWORD, code, address="x", now=NOW)
    with database.transaction() as session, pytest.raises(LoginRefused):
        authenticate(session, person.email, PASSWORD, code, address="x", now=NOW)


def test_sessions_end_after_30_idle_minutes_and_after_12_hours(app, make_person):
    person = make_person(StaffRole.OFFICER)
    database = current.database(app)
    with database.transaction() as session:
        staff = session.get(StaffUser, person.id)
        idle = open_session(session, staff, address="x", now=NOW)
        busy = open_session(session, staff, address="x", now=NOW)
    with database.transaction() as session:
        assert resolve_session(session, idle, NOW + timedelta(minutes=29)) is not None
        assert resolve_session(session, idle, NOW + timedelta(minutes=60)) is None
        assert resolve_session(session, idle, NOW + timedelta(minutes=61)) is None, (
            "ended stays ended"
        )
    moment = NOW
    with database.transaction() as session:
        while moment < NOW + timedelta(hours=11, minutes=50):
            moment += timedelta(minutes=20)
            assert resolve_session(session, busy, moment) is not None
        assert resolve_session(session, busy, NOW + timedelta(hours=12, minutes=1)) is None
        assert session.scalar(
            select(StaffSession.ended_at).where(StaffSession.staff_id == person.id).limit(1)
        )


def test_a_session_cookie_is_httponly_strict_and_renewed_at_login(app, make_person, login):
    person = make_person(StaffRole.OFFICER)
    client = app.test_client()
    client.get("/staff/login")
    before = client.get_cookie("accredit_session")
    login(person, client)
    cookie = client.get_cookie("accredit_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert before is None or before.value != cookie.value
    with current.database(app).session() as session:
        tokens = session.scalars(
            select(StaffSession).where(StaffSession.staff_id == person.id)
        ).all()
        assert len(tokens) == 1 and len(tokens[0].token_sha256) == 64
    login(person)  # another device: another session
    with current.database(app).session() as session:
        assert (
            len(
                session.scalars(
                    select(StaffSession).where(StaffSession.staff_id == person.id)
                ).all()
            )
            == 2
        )
    logout_page = client.get("/staff/").get_data(as_text=True)
    client.post("/staff/logout", data={"csrf_token": csrf_of(logout_page)})
    assert client.get("/staff/").status_code == 302


def test_an_assessor_cannot_decide_even_around_the_views(app, register, make_person):
    """The database refuses it too: its trigger, on SQLite and on PostgreSQL."""
    officer = make_person(StaffRole.OFFICER)
    assessor = make_person(StaffRole.ASSESSOR, StaffRole.DECISION_MAKER)
    database = current.database(app)
    with database.transaction() as session:
        case = workflow.propose(
            session,
            workflow.Proposal(
                kind=CaseKind.SUSPENSION,
                cab_id=register["cab"],
                accreditation_id=session.scalar(text("SELECT id FROM accreditation LIMIT 1")),
                effective=NOW.date(),
                reason_en="PT failed",
                reason_th="ไม่ผ่าน PT",
            ),
            by=session.get(StaffUser, officer.id),
            now=NOW,
        )
        workflow.add_assessor(
            session,
            case,
            session.get(StaffUser, assessor.id),
            by=session.get(StaffUser, officer.id),
            now=NOW,
        )
        case_id = case.id
    with (
        pytest.raises(DBAPIError, match="assessor of a case cannot decide"),
        database.transaction() as session,
    ):
        session.execute(
            text("UPDATE case_file SET decided_by_id = :who, decided_at = :at WHERE id = :id"),
            {"who": assessor.id, "at": NOW.replace(tzinfo=None), "id": case_id},
        )
    with (
        pytest.raises(DBAPIError, match="decider_is_not_proposer"),
        database.transaction() as session,
    ):
        session.execute(
            text("UPDATE case_file SET decided_by_id = :who, decided_at = :at WHERE id = :id"),
            {"who": officer.id, "at": NOW.replace(tzinfo=None), "id": case_id},
        )


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET action = 'x.y'", "DELETE FROM audit_log"]
)
def test_audit_rows_are_never_changed_or_deleted(app, make_person, statement):
    make_person(StaffRole.OFFICER)  # leaves a staff.add entry
    with current.database(app).transaction() as session:
        assert session.scalar(select(AuditEntry.id).limit(1)) is not None
    with (
        pytest.raises(DBAPIError, match=r"never (changed|deleted)"),
        current.database(app).transaction() as session,
    ):
        session.execute(text(statement))


@pytest.mark.parametrize("raw", ["²", "99999999999999999999", "-1", "0"])
def test_the_audit_log_refuses_a_bad_page_number(make_person, login, raw):
    client = login(make_person(StaffRole.AUDITOR))
    response = client.get(f"/staff/audit?page={raw}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "must be a" in page and "Traceback" not in page
    assert client.get("/staff/audit?page=1").status_code == 200
