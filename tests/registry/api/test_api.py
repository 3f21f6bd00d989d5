"""Pages, their JSON twins and the OpenAPI document, on SQLite and PostgreSQL.

Every JSON response the tests see is validated against ``/api/v1/openapi.json``
with openapi-core; the document itself is checked with openapi-spec-validator.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_spec_validator import validate
from sqlalchemy import select

from registry.api.openapi import openapi_document
from registry.certificates.models import Blob, Certificate
from registry.register.models import Cab
from registry.register.status import EventKind
from registry.web import current

from ...conftest import BACKENDS
from ...documents import demo_instance, issue_certificates, rolled_back, valid_numbers
from .. import factories

NOW = datetime.now(UTC)


@pytest.fixture(scope="module", params=BACKENDS)
def instance(request, tmp_path_factory, make_database_url):
    """A demo register with two certificates, made once per backend for the module."""
    url = make_database_url(request.param)
    app = demo_instance(
        tmp_path_factory.mktemp("api"), 60, DATABASE_URL=url, RATE_LIMIT="1000 per minute"
    )
    assert len(issue_certificates(app, 2)) == 2
    app.config["valid_numbers"] = valid_numbers(app)
    yield app
    current.database(app).engine.dispose()  # before the session drops the database


@pytest.fixture
def app(instance):
    """The module's register; what a test writes is rolled back after it."""
    with rolled_back(instance) as app:
        app.config["valid_numbers"] = instance.config["valid_numbers"]
        yield app


@pytest.fixture(scope="module")
def spec():
    document = openapi_document()
    validate(document)
    return OpenAPI.from_dict(document)


@pytest.fixture
def get(app, spec):
    """GET through the test client; JSON answers are validated against the spec."""
    client = app.test_client()

    def fetch(url: str, **kwargs):
        response = client.get(url, **kwargs)
        assert b"Traceback" not in response.data
        if response.mimetype == "application/json" and url.startswith("/api/v1/"):
            spec.validate_response(
                WerkzeugOpenAPIRequest(response.request), WerkzeugOpenAPIResponse(response)
            )
        return response

    return fetch


def test_the_openapi_document_is_valid_3_1(get):
    response = get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.1")
    validate(document)
    assert {"/api/v1/search", "/api/v1/verify", "/api/v1/accreditations/{number}"} <= set(
        document["paths"]
    )


def test_search_twin_matches_the_page(get, app):
    number = app.config["valid_numbers"][0]
    api = get(f"/api/v1/search?q={number}").json
    accept = get(f"/search?q={number}", headers={"Accept": "application/json"}).json
    assert api == accept
    assert api["results"][0]["accreditation"] == number
    page = get(f"/search?q={number}").get_data(as_text=True)
    assert number in page
    for name in ("status", "programme", "field", "place"):
        assert name in api["facets"]
    assert get("/api/v1/search?q=" + "x" * 300).status_code == 400
    assert get("/api/v1/search?status=bogus").status_code == 400


def test_accreditation_page_and_twin(get, app):
    number = app.config["valid_numbers"][0]
    data = get(f"/api/v1/accreditations/{number}").json
    assert data["accreditation"]["number"] == number
    assert data["accreditation"]["status"] == "valid"
    assert data["history"] and data["history"][-1]["kind"] == "granted"
    assert data["certificates"][0]["current"] is True
    assert data["certificates"][0]["pdf"].endswith(".pdf")
    assert data["scope"]["items"]
    page = get(f"/a/{number}").get_data(as_text=True)
    assert "Status history" in page and "Scope of accreditation" in page
    assert data["cab"]["name_en"] in page
    thai = get(f"/a/{number}?lang=th").get_data(as_text=True)
    assert "ประวัติสถานะ" in thai and "พ.ศ." in thai
    assert get("/api/v1/accreditations/Nope-0000").status_code == 404


def test_scope_filter_and_pages(get, app):
    number = app.config["valid_numbers"][0]
    everything = get(f"/api/v1/accreditations/{number}").json["scope"]
    first = everything["items"][0]
    by_field = get(f"/api/v1/accreditations/{number}?field={first['field_en']}").json["scope"]
    assert by_field["total"] >= 1
    assert {i["field_en"] for i in by_field["items"]} == {first["field_en"]}
    word = first["product_th"][:3]
    by_text = get(f"/api/v1/accreditations/{number}?q={word}").json["scope"]
    assert all(
        word in (i["product_th"] + i["parameter_th"] + i["field_th"]) for i in by_text["items"]
    )
    by_site = get(f"/api/v1/accreditations/{number}?site={first['site_id']}").json["scope"]
    assert {i["site_id"] for i in by_site["items"]} == {first["site_id"]}
    for bad in ("site=abc", "page=0", "q=" + "y" * 300):
        assert get(f"/api/v1/accreditations/{number}?{bad}").status_code == 400


def test_many_scope_items_are_paginated(get, app):
    with current.database(app).session() as session:
        acc = factories.accreditation(session, items=120, valid_until=datetime(2090, 1, 1).date())
        staff = factories.staff_pair(session)
        factories.event(session, acc, EventKind.GRANTED, acc.valid_from, staff=staff)
        session.commit()
    first = get(f"/api/v1/accreditations/{acc.number}").json["scope"]
    assert (first["total"], first["pages"], len(first["items"])) == (120, 3, 50)
    last = get(f"/api/v1/accreditations/{acc.number}?page=3").json["scope"]
    assert len(last["items"]) == 20
    page = get(f"/a/{acc.number}?page=2").get_data(as_text=True)
    assert "Page 2 of 3" in page


def test_cab_page_and_twin(get, app):
    with current.database(app).session() as session:
        cab_id = session.scalars(select(Cab.id).order_by(Cab.id)).first()
    data = get(f"/api/v1/cabs/{cab_id}").json
    assert data["cab"]["id"] == cab_id and data["sites"]
    page = get(f"/cab/{cab_id}").get_data(as_text=True)
    assert data["cab"]["name_en"] in page and "Last updated" in page
    assert get("/api/v1/cabs/999999999").status_code == 404
    assert get("/cab/99999999999999999999").status_code == 404


def test_certificate_and_qr_twins(get, app):
    with current.database(app).session() as session:
        cert = session.scalars(select(Certificate)).first()
        token = cert.qr_url.split("/V/")[1]
    assert get(f"/api/v1/certificates/{cert.number}").json["status"] == "current"
    assert get(f"/api/v1/qr/{token}").json["certificate"]["number"] == cert.number
    assert get(f"/api/v1/qr/{token[:-8]}AAAAAAAA").status_code == 400
    assert get("/api/v1/certificates/Testing-9999/R9").status_code == 404


def test_pages_are_conditional_and_change_with_the_register(get, app):
    number = app.config["valid_numbers"][1]
    first = get(f"/a/{number}")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "Accept-Language" in first.headers["Vary"]
    again = get(f"/a/{number}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    since = get(f"/a/{number}", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    thai = get(f"/a/{number}?lang=th", headers={"If-None-Match": etag})
    assert thai.status_code == 200  # another variant, another tag

    factories.decide(app, number, EventKind.SUSPENDED, reason="Test suspension")
    after = get(f"/a/{number}", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert "Test suspension" in after.get_data(as_text=True)


def test_security_headers_everywhere(get):
    for url in ("/", "/search?q=rice", "/verify", "/api/v1/openapi.json", "/nope"):
        response = get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]
    page = get("/").get_data(as_text=True)
    assert "<style" not in page and "style=" not in page and "<script>" not in page
    assert "https://" not in page.split("</head>")[0]  # no CDN


def test_exports_stream_the_whole_register(get, app):
    response = get("/exports/registry.csv")
    assert response.status_code == 200
    assert "Content-Length" not in response.headers  # streamed, not built in memory
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and {"accreditation_number", "item_status", "product_th"} <= set(rows[0])
    assert {r["accreditation_status"] for r in rows} <= {
        "valid",
        "suspended",
        "partially_suspended",
        "withdrawn",
        "expired",
    }
    data = json.loads(get("/exports/registry.json").get_data(as_text=True))
    numbers = {a["number"] for c in data["cabs"] for a in c["accreditations"]}
    assert numbers == {r["accreditation_number"] for r in rows}


def test_status_feed_is_atom_newest_first(get):
    response = get("/feeds/status.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    updated = [e.find("a:updated", ns).text for e in feed.findall("a:entry", ns)]
    assert updated and updated == sorted(updated, reverse=True)


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    app = demo_instance(tmp_path / "limited", 5, RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.get("/api/v1/search?q=lab").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    limited = client.get("/api/v1/search?q=lab")
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json["error"]["code"] == "rate_limited"
    assert client.get("/healthz").status_code == 200  # not limited


def test_errors_are_problems_not_traces(get, app):
    missing = app.test_client().get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert get("/nothing-here").mimetype == "text/html"


def genuine_pdf(app) -> tuple[str, bytes]:
    with current.database(app).session() as session:
        cert = session.scalars(select(Certificate).order_by(Certificate.id)).first()
        return cert.number, session.get(Blob, cert.sha256).data


def test_verify_api_reports_each_file(app, tmp_path, monkeypatch):
    import tempfile

    number, pdf = genuine_pdf(app)
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    client = app.test_client()
    response = client.post(
        "/api/v1/verify",
        data={
            "file": [
                (io.BytesIO(pdf), "genuine.pdf"),
                (io.BytesIO(pdf + b"\n% appended\n"), "appended.pdf"),
                (io.BytesIO(b"<html>not a pdf</html>"), "page.pdf"),
            ]
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.data
    # openapi-core would re-read the consumed multipart body; validate the schema directly.
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = Resource.from_contents(openapi_document(), default_specification=DRAFT202012)
    Draft202012Validator(
        {"$ref": "urn:openapi#/components/schemas/VerificationResults"},
        registry=Registry().with_resource("urn:openapi", document),
    ).validate(response.json)
    assert response.headers["Cache-Control"] == "no-store"
    genuine, appended, html = response.json["reports"]
    assert genuine["document"] == "authentic" and genuine["certificate_number"] == number
    assert genuine["register"]["certificate"]["number"] == number
    logged = genuine["checks"][-1]
    assert logged["name"] == "public_log" and logged["passed"], logged
    index = genuine["register"]["certificate"]["log_index"]
    assert logged["detail"].startswith(f"recorded in the public log at index {index} ")
    assert appended["document"] == "modified" and appended["register"] is None
    assert html["verdict"] == "unreadable"
    assert list(spool.iterdir()) == []  # nothing was spooled to disk


def test_verify_page_shows_cards_and_hides_the_word_forged(app):
    _, pdf = genuine_pdf(app)
    client = app.test_client()
    page = client.post(
        "/verify",
        data={"file": [(io.BytesIO(pdf), "a.pdf"), (io.BytesIO(pdf[:-2000]), "b.pdf")]},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert page.count('class="card') == 2
    assert "Not altered since the agency signed it" in page
    assert "forged" not in page.lower()
    thai = client.post(
        "/verify?lang=th",
        data={"file": [(io.BytesIO(pdf), "a.pdf")]},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "ไม่ถูกแก้ไขนับตั้งแต่หน่วยงานลงนาม" in thai
    # Every check carries a label in the page's language beside its stable name.
    assert "The signature matches the signed content (<code>signature_integrity</code>)" in page
    assert "ลายมือชื่อตรงกับเนื้อหาที่ลงนาม (<code>signature_integrity</code>)" in thai
    assert "The agency's public log recorded this certificate (<code>public_log</code>)" in page
    assert "บันทึกสาธารณะของหน่วยงานบันทึกใบรับรองนี้ไว้ (<code>public_log</code>)" in thai


def test_a_leaf_edited_in_the_database_makes_the_file_untrusted(app):
    """The register's own database cannot vouch against its signed log."""
    from registry.log.models import LogEntry

    number, pdf = genuine_pdf(app)
    with current.database(app).transaction() as session:
        cert = session.scalars(select(Certificate).where(Certificate.number == number)).one()
        entry = session.get(LogEntry, cert.log_index)
        entry.data = entry.data.replace(b'"revision":', b'"revision": ')
    client = app.test_client()
    report = client.post(
        "/api/v1/verify",
        data={"file": [(io.BytesIO(pdf), "genuine.pdf")]},
        content_type="multipart/form-data",
    ).json["reports"][0]
    logged = report["checks"][-1]
    assert (logged["name"], logged["code"]) == ("public_log", "bad_inclusion_proof")
    assert report["document"] == "untrusted" and report["verdict"] == "not_authentic"


def test_verify_refuses_bad_uploads(tmp_path):
    app = demo_instance(tmp_path / "small", 3, MAX_UPLOAD_BYTES=4096, UPLOAD_RATE_LIMIT="2/minute")
    client = app.test_client()
    big = client.post(
        "/api/v1/verify",
        data={"file": [(io.BytesIO(b"%PDF-" + b"x" * 10_000), "big.pdf")]},
        content_type="multipart/form-data",
    )
    assert big.status_code == 413 and big.json["error"]["code"] == "request_entity_too_large"
    empty = client.post("/api/v1/verify", data={}, content_type="multipart/form-data")
    assert empty.status_code == 400 and empty.json["error"]["code"] == "no_file"
    limited = client.post("/api/v1/verify", data={}, content_type="multipart/form-data")
    assert limited.status_code == 429 and "Retry-After" in limited.headers
