"""The QR landing page and /c/<number>: one big answer, in English and Thai."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from registry.acts.decisions import DecisionRefused, record
from registry.certificates.issuance import find_accreditation, issue
from registry.changes import DEVELOPMENT
from registry.pki.material import get_document_signer, get_pki
from registry.register.status import EventKind
from registry.staff.models import StaffUser
from registry.web import current
from verifier.qr import decode_qr_payload, encode_qr_payload

from ...documents import demo_instance, rolled_back
from ...documents import valid_numbers as all_valid_numbers
from .. import factories

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    return demo_instance(
        tmp_path_factory.mktemp("answers"), 50, PUBLIC_URL="https://registry.example.go.th"
    )


@pytest.fixture
def app(instance):
    """The demo instance; each test's issuances and decisions are rolled back."""
    with rolled_back(instance) as app:
        yield app


def valid_numbers(app, count: int) -> list[str]:
    return all_valid_numbers(app)[:count]


def issue_for(app, number: str):
    with current.database(app).transaction() as session:
        issued = issue(
            session,
            find_accreditation(session, number),
            get_document_signer(app),
            current.settings(app),
            actor=DEVELOPMENT,
        )
    return issued.certificate


def path_of(url: str) -> str:
    return url.split("GO.TH", 1)[1]


def test_valid_certificate_in_english_and_thai(app):
    cert = issue_for(app, valid_numbers(app, 1)[0])
    client = app.test_client()
    page = client.get(path_of(cert.qr_url))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Genuine certificate, issued by Thai Industrial Standards Institute" in html
    assert ">✔</span> Valid" in html
    assert cert.number in html
    thai = client.get(path_of(cert.qr_url) + "?lang=th").get_data(as_text=True)
    assert "ใช้ได้" in thai
    assert "ใบรับรองของจริง" in thai
    assert "พ.ศ." in thai
    # The choice is remembered in a cookie.
    assert "ใช้ได้" in client.get(f"/c/{cert.number}").get_data(as_text=True)
    # The same answer, typed in, and as JSON; /v/ works like /V/.
    client = app.test_client()
    typed = client.get(f"/c/{cert.number}").get_data(as_text=True)
    assert ">✔</span> Valid" in typed
    lower = client.get(
        path_of(cert.qr_url).replace("/V/", "/v/"), headers={"Accept": "application/json"}
    ).json
    assert lower["status"] == "current"
    assert lower["certificate"]["number"] == cert.number
    assert lower["genuine"] is True


def test_superseded_revision_points_at_the_current_one(app):
    number = valid_numbers(app, 2)[1]
    first = issue_for(app, number)
    second = issue_for(app, number)
    html = app.test_client().get(path_of(first.qr_url)).get_data(as_text=True)
    assert f"Superseded by revision R{second.revision}" in html
    assert f"/c/{second.number}" in html
    data = app.test_client().get(f"/c/{first.number}", headers={"Accept": "application/json"}).json
    assert data["status"] == "superseded"
    assert data["current_revision"]["number"] == second.number


def test_suspension_shows_on_the_next_request(app):
    number = valid_numbers(app, 3)[2]
    cert = issue_for(app, number)
    client = app.test_client()
    assert ">✔</span> Valid" in client.get(path_of(cert.qr_url)).get_data(as_text=True)
    factories.decide(
        app,
        number,
        EventKind.SUSPENDED,
        effective=NOW.date(),
        until=NOW.date() + timedelta(days=30),
    )
    html = client.get(path_of(cert.qr_url)).get_data(as_text=True)
    assert "Suspended since" in html
    assert "Suspended until" in html
    assert "Unsatisfactory proficiency testing" in html
    assert "พักใช้ตั้งแต่" in client.get(path_of(cert.qr_url) + "?lang=th").get_data(as_text=True)


def test_withdrawn(app):
    number = valid_numbers(app, 4)[3]
    cert = issue_for(app, number)
    factories.decide(
        app, number, EventKind.WITHDRAWN, effective=NOW.date(), reason="Laboratory closed"
    )
    data = app.test_client().get(path_of(cert.qr_url), headers={"Accept": "application/json"}).json
    assert data["status"] == "withdrawn"
    assert data["reason"] == "Laboratory closed"
    html = app.test_client().get(path_of(cert.qr_url)).get_data(as_text=True)
    assert "Withdrawn on" in html


def test_a_forged_qr_code_is_400_and_says_so(app, make_pki):
    cert = issue_for(app, valid_numbers(app, 5)[4])
    token = path_of(cert.qr_url).split("/V/")[1]
    raw = bytearray(base64.b32decode(token + "=" * (-len(token) % 8)))
    raw[-5] ^= 0x01  # one bit of the signature
    forged = base64.b32encode(bytes(raw)).decode().rstrip("=")
    client = app.test_client()
    for bad in (forged, token[:-9], "NOTAPAYLOAD", "A" * 5000):
        response = client.get(f"/V/{bad}")
        assert response.status_code == 400, bad[:20]
        assert "This QR code was not issued by Thai Industrial Standards Institute" in (
            response.get_data(as_text=True)
        )
    assert (
        client.get(f"/V/{forged}", headers={"Accept": "application/json"}).json["error"]["code"]
        == "qr_bad_signature"
    )


def test_a_genuine_payload_for_an_unknown_certificate_is_404(app):
    cert = issue_for(app, valid_numbers(app, 6)[5])
    pki = get_pki(app)
    claims = decode_qr_payload(cert.qr_url, pki.qr_jwks())
    ghost = replace(claims, certificate_number="Testing-9999/R1", kid=None)
    url = encode_qr_payload(ghost, pki.qr_signing_jwk(), "https://registry.example.go.th")
    response = app.test_client().get(path_of(url))
    assert response.status_code == 404
    assert "Testing-9999/R1 is not in the register" in response.get_data(as_text=True)


def test_typed_number_lookup(app):
    client = app.test_client()
    assert client.get("/c?number=Testing-0001/R1").status_code == 302
    missing = client.get("/c/Nothing-0000/R1")
    assert missing.status_code == 404
    assert "No certificate numbered Nothing-0000/R1" in missing.get_data(as_text=True)
    assert client.get("/c/" + "<script>x</script>").status_code == 404
    assert "<script>x</script>" not in client.get("/c/<script>x</script>").get_data(as_text=True)


def test_decisions_need_two_people(app):
    with current.database(app).transaction() as session:
        acc = find_accreditation(session, valid_numbers(app, 1)[0])
        officer = session.scalars(select(StaffUser)).first()
        with pytest.raises(DecisionRefused, match="someone other than its proposer"):
            record(
                session,
                acc,
                EventKind.SUSPENDED,
                NOW.date(),
                proposed_by=officer,
                approved_by=officer,
                reason_en="x",
            )
