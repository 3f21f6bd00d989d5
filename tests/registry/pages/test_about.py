"""Who to contact, the recognition chain and the trust page, on SQLite and PostgreSQL.

One demo register per backend for the module (its bodies carry contact details
from the generator); JSON answers under ``/api/v1`` are validated against the
OpenAPI document, as in ``tests/registry/api``.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy import select

from registry.register.models import Accreditation, Cab
from registry.web import current

from ...conftest import BACKENDS
from ...documents import demo_instance, issue_certificates, rolled_back


@pytest.fixture(scope="module", params=BACKENDS)
def instance(request, tmp_path_factory, make_database_url):
    app = demo_instance(
        tmp_path_factory.mktemp("about"),
        20,
        DATABASE_URL=make_database_url(request.param),
        RATE_LIMIT="1000 per minute",
    )
    issued = issue_certificates(app, 1)
    app.config["issued"] = issued[0]
    yield app
    current.database(app).engine.dispose()


@pytest.fixture
def app(instance):
    with rolled_back(instance) as app:
        app.config["issued"] = instance.config["issued"]
        yield app


def first_accreditation(app) -> tuple[Cab, Accreditation]:
    with current.database(app).session() as session:
        acc = session.scalars(
            select(Accreditation).where(
                Accreditation.number == app.config["issued"].certificate.accreditation.number
            )
        ).one()
        return acc.cab, acc


def test_about_says_who_the_agency_is_and_how_to_reach_it(get):
    page = get("/about").get_data(as_text=True)
    assert "<h1>About Thai Industrial Standards Institute</h1>" in page
    assert "Rama VI Road, Ratchathewi, Bangkok 10400" in page
    assert 'href="mailto:accreditation@tisi.go.th"' in page
    assert 'id="report"' in page and "Report a suspicious certificate" in page
    assert "ILAC MRA" in page and "APAC MRA" in page
    assert "<img" not in page  # no third-party logos
    thai = get("/about?lang=th").get_data(as_text=True)
    assert "ถนนพระรามที่ 6 เขตราชเทวี" in thai and "แจ้งใบรับรองที่น่าสงสัย" in thai
    assert "พ.ศ. 2562" in thai  # APAC MRA since 2019, in the Buddhist Era
    data = get("/about", headers={"Accept": "application/json"}).json
    assert data["agency"]["phone"] and data["agency"]["report_email"] == data["agency"]["email"]
    assert [r["name"] for r in data["recognition"]] == ["APAC MRA", "ILAC MRA"]
    assert data["links"]["trust"] == "/trust"
    assert get("/contact").status_code == 301 and get("/contact").location == "/about"


def test_the_contact_is_configurable(make_app, make_database_url):
    app = make_app(
        DATABASE_URL=make_database_url("sqlite"),
        AGENCY_PHONE="+66 2 555 0100",
        AGENCY_REPORT_EMAIL="report@agency.example",
        RECOGNITION="ILAC MRA|testing|2001-11-02",
    )
    from registry import db  # optional: only this test needs its own migrated database

    db.upgrade(current.database(app).engine)
    data = app.test_client().get("/about?format=json").json
    assert data["agency"]["phone"] == "+66 2 555 0100"
    assert data["agency"]["report_email"] == "report@agency.example"
    assert [r["name"] for r in data["recognition"]] == ["ILAC MRA"]


def test_every_page_links_to_the_contact(get, app):
    for url in ("/", "/about", "/trust", "/verify"):
        page = get(url).get_data(as_text=True)
        footer = page.split("<footer>")[1]
        assert 'href="/about"' in footer and 'href="/trust"' in footer, url
    # A warning ("Contact the agency") leads to the page that says how.
    warning = get("/V/not-a-genuine-token")
    assert warning.status_code == 400
    assert 'href="/about#contact"' in warning.get_data(as_text=True).split("<footer>")[0]
    assert get("/V/not-a-genuine-token?format=json").json["error"]["code"]


def test_bodies_have_contacts_on_their_pages_the_api_and_the_exports(get, app):
    cab, acc = first_accreditation(app)
    assert cab.email and cab.phone and cab.website, "the demo generator fills them"
    assert cab.email.endswith(".example")
    page = get(f"/cab/{cab.id}?lang=en").get_data(as_text=True)
    assert f'href="mailto:{cab.email}"' in page and cab.phone in page and cab.website in page
    api = get(f"/api/v1/cabs/{cab.id}").json
    assert (api["cab"]["email"], api["cab"]["phone"], api["cab"]["website"]) == (
        cab.email,
        cab.phone,
        cab.website,
    )
    record = get(f"/api/v1/accreditations/{acc.number}").json
    assert record["cab"]["email"] == cab.email
    assert cab.email in get(f"/a/{acc.number}").get_data(as_text=True)
    rows = list(
        csv.DictReader(
            io.StringIO(get("/exports/registry.csv").get_data(as_text=True).lstrip("\ufeff"))
        )
    )
    mine = [r for r in rows if r["cab_id"] == str(cab.id)]
    assert mine and {(r["cab_email"], r["cab_phone"], r["cab_website"]) for r in mine} == {
        (cab.email, cab.phone, cab.website)
    }
    data = json.loads(get("/exports/registry.json").get_data(as_text=True))
    (body,) = [c for c in data["cabs"] if c["id"] == cab.id]
    assert (body["email"], body["phone"], body["website"]) == (cab.email, cab.phone, cab.website)


def test_a_body_without_contacts_says_so(get, app):
    cab, _ = first_accreditation(app)
    with current.database(app).transaction() as session:
        found = session.get(Cab, cab.id)
        found.email = found.phone = found.website = None
    page = get(f"/cab/{cab.id}?lang=en").get_data(as_text=True)
    assert "This body has given no contact details to the register." in page
    api = get(f"/api/v1/cabs/{cab.id}").json
    assert api["cab"]["email"] is None


def test_records_show_the_recognition_chain_for_their_programme(get, app):
    cab, acc = first_accreditation(app)
    record = get(f"/api/v1/accreditations/{acc.number}").json
    by_name = {r["name"]: r for r in record["recognition"]}
    assert set(by_name) == {"APAC MRA", "ILAC MRA"}
    for r in by_name.values():
        assert r["covers"] is (acc.programme.value in r["scope"])
    assert by_name["ILAC MRA"]["since"] == "2001-11-02"
    page = get(f"/a/{acc.number}").get_data(as_text=True)
    assert "International recognition" in page and "covers this accreditation" in page
    assert "<img" not in page
    thai = get(f"/a/{acc.number}?lang=th").get_data(as_text=True)
    assert "การยอมรับในระดับสากล" in thai and "พ.ศ. 2544" in thai  # ILAC since 2001 (B.E. 2544)
    body = get(f"/api/v1/cabs/{cab.id}").json
    assert [r["name"] for r in body["recognition"]] == ["APAC MRA", "ILAC MRA"]
    assert "International recognition" in get(f"/cab/{cab.id}?lang=en").get_data(as_text=True)


def test_a_programme_outside_an_arrangement_is_not_claimed(make_app, make_database_url):
    """An arrangement for inspection only must not read as covering a testing lab."""
    from registry.pages.records import recognition_json  # optional: a pure function, no app
    from registry.settings import parse_recognition  # optional: see above

    found = recognition_json(parse_recognition("IAF MLA|inspection|2010-01-01"), ["testing"])
    assert found[0]["covers"] is False


def test_the_trust_page_shows_this_instances_root(get, app):
    from registry.pki.material import get_pki  # optional: the instance's own PKI, in its app

    with app.app_context():
        root = get_pki(app).root
    expected = ":".join(f"{b:02X}" for b in root.fingerprint(hashes.SHA256()))
    page = get("/trust").get_data(as_text=True)
    assert expected in page
    assert 'href="/pki/root.pem"' in page and 'href="/pki/root.crt"' in page
    assert (
        "certutil -d sql:$HOME/.pki/nssdb -A -t &#34;,C,&#34; -n accredit-root -i root.pem" in page
    )
    assert "Adobe Acrobat" in page and "Trusted Certificates" in page
    data = get("/trust", headers={"Accept": "application/json"}).json
    assert data["root"]["sha256"] == expected
    pem = get(data["root"]["pem"]).data
    assert x509.load_pem_x509_certificate(pem) == root
    thai = get("/trust?lang=th").get_data(as_text=True)
    assert "วิธีเชื่อถือลายมือชื่อของเรา" in thai and "พ.ศ." in thai


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def test_following_the_trust_page_makes_pdfsig_trust_an_issued_certificate(get, app, tmp_path):
    """The page's own commands, run as written, on a fresh NSS database."""
    data = get("/trust?format=json").json
    nssdb = tmp_path / "nssdb"
    nssdb.mkdir()
    (tmp_path / "root.pem").write_bytes(get(data["root"]["pem"]).data)
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(app.config["issued"].pdf)
    commands = [
        c.replace("$HOME/.pki/nssdb", str(nssdb)).replace("root.pem", str(tmp_path / "root.pem"))
        for c in data["nss_commands"]
        if not c.startswith(("mkdir", "pdfsig"))
    ]
    assert run("certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password").returncode == 0
    before = run("pdfsig", "-nssdir", f"sql:{nssdb}", "-no-ocsp", str(pdf)).stdout
    assert "Signature is Valid." in before
    assert "Certificate is Trusted." not in before.split("Signature #2")[0]
    for command in commands[1:]:
        result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, (command, result.stderr)
    listed = run("certutil", "-d", f"sql:{nssdb}", "-L", "-n", data["nss_nickname"]).stdout
    assert data["root"]["sha256"] in listed.replace("\n", "").replace(" ", "")
    after = run("pdfsig", "-nssdir", f"sql:{nssdb}", "-no-ocsp", str(pdf)).stdout
    approval = after.split("Signature #2")[0]
    assert "Signature is Valid." in approval and "Certificate is Trusted." in approval, after


def test_a_certificate_answer_carries_the_recognition_chain(get, app):
    number = app.config["issued"].certificate.number
    accreditation, revision = number.split("/")
    data = get(f"/api/v1/certificates/{accreditation}/{revision}").json
    assert [r["name"] for r in data["recognition"]] == ["APAC MRA", "ILAC MRA"]
    assert all(
        r["covers"] is (data["accreditation"]["programme"] in r["scope"])
        for r in data["recognition"]
    )
    page = get(f"/c/{number}?lang=th").get_data(as_text=True)
    assert "การยอมรับในระดับสากล" in page


def test_a_document_not_from_the_agency_offers_a_report(app, signed_pdf):
    """Signed by some other authority: the card says so and says where to report it."""
    page = (
        app.test_client()
        .post(
            "/verify?lang=en",
            data={"file": [(io.BytesIO(signed_pdf), "other.pdf")]},
            content_type="multipart/form-data",
        )
        .get_data(as_text=True)
    )
    card = page.split('class="card')[1]
    assert 'href="/about#report"' in card, card[:2000]
    genuine = (
        app.test_client()
        .post(
            "/verify?lang=en",
            data={"file": [(io.BytesIO(app.config["issued"].pdf), "genuine.pdf")]},
            content_type="multipart/form-data",
        )
        .get_data(as_text=True)
    )
    assert 'href="/about#report"' not in genuine.split('class="card')[1]
