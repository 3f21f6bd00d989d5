"""Pages, their JSON twins and the OpenAPI document, on SQLite and PostgreSQL.

Every JSON response the tests see is validated against ``/api/v1/openapi.json``
with openapi-core; the document itself is checked with openapi-spec-validator.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import subprocess
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest
from openapi_spec_validator import validate
from pythainlp.util import collate
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
    assert get(f"/search?q={number}").location == f"/a/{number}"  # a number lands
    page = get(f"/search?q={number.split('-')[1]}").get_data(as_text=True)
    assert number in page
    for name in ("status", "programme", "field", "province"):
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


def test_exports_hold_the_whole_register(get, app):
    response = get("/exports/registry.csv")
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.data)  # a whole file
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
    issued = {(r["current_certificate"], r["current_certificate_url"]) for r in rows} - {("", "")}
    assert len(issued) == 2  # the module issued two certificates
    for number, url in issued:
        assert url.endswith(f"/c/{number}")
        assert get(url[url.index("/c/") :]).status_code == 200


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
    answers = [client.get("/api/v1/search?q=lab") for _ in range(5)]
    codes = [a.status_code for a in answers]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert all("Retry-After" not in a.headers for a in answers[:3])  # only on 429
    assert "X-RateLimit-Remaining" in answers[0].headers
    limited = client.get("/api/v1/search?q=lab")
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["Access-Control-Allow-Origin"] == "*"  # a browser app can read why
    assert limited.json["error"]["code"] == "rate_limited"
    assert client.get("/healthz").status_code == 200  # not limited


def test_errors_are_problems_not_traces(get, app):
    missing = app.test_client().get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert missing.headers["Access-Control-Allow-Origin"] == "*"  # a browser app can read it
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
    assert appended["document"] == "modified" and appended["status"] == "unknown"
    # Beside a changed copy: the register's record, next to what the agency signed.
    assert appended["headline"]["issuer"] == "changed_copy"
    assert appended["register"]["certificate"]["number"] == number
    assert html["verdict"] == "unreadable"
    assert list(spool.iterdir()) == []  # nothing was spooled to disk


def test_the_verify_page_has_a_json_twin_that_the_document_describes(get, app):
    offer = get("/api/v1/verify")  # validated against the OpenAPI document by ``get``
    assert offer.status_code == 200 and offer.mimetype == "application/json"
    twin = get("/verify", headers={"Accept": "application/json"})
    assert twin.mimetype == "application/json" and twin.json == offer.json
    verify = offer.json["verify"]
    settings = current.settings(app)
    assert verify["upload"] == {
        "url": "/api/v1/verify",
        "method": "POST",
        "encoding": "multipart/form-data",
        "field": "file",
        "accepts": ["application/pdf"],
    }
    assert verify["limits"]["max_files"] == 20
    assert verify["limits"]["max_request_bytes"] == settings.max_upload_bytes
    assert verify["limits"]["rate_limit"] == settings.upload_rate_limit
    assert verify["stored"] is False and verify["openapi"] == "/api/v1/openapi.json"
    for link in (verify["api_docs"], verify["openapi"], verify["page"]):
        assert get(link).status_code == 200
    refused = get("/api/v1/verify?max=1")
    assert refused.status_code == 400 and refused.json["error"]["code"] == "unknown_parameter"
    assert "text/html" in get("/verify").mimetype  # people still get the page


def test_a_verify_page_upload_asked_for_json_answers_as_the_api(app):
    _, pdf = genuine_pdf(app)
    response = app.test_client().post(
        "/verify",
        data={"file": [(io.BytesIO(pdf), "a.pdf")]},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200 and response.mimetype == "application/json"
    (report,) = response.json["reports"]
    assert report["document"] == "authentic"
    assert response.headers["Cache-Control"] == "no-store"


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
    # Under each check, a sentence in the page's language; English keeps the verifier's detail.
    assert "ไฟล์นี้เป็น PDF" not in thai and "ไฟล์เป็น PDF ที่อ่านได้" in thai
    assert "the file is a readable PDF" in page and "the file is a readable PDF" not in thai
    assert 'lang="en"' not in thai.split('class="checks"')[1].split("</ul>")[0]


def test_every_reason_code_has_a_sentence_in_both_languages(app):
    from registry.verification.reasons import PASSED, REASONS
    from verifier.report import CHECK_NAMES
    from verifier.rules import CODES

    assert set(PASSED) == set(CHECK_NAMES)
    codes = {code for found in CODES.values() for code in found if code != "lta_*"}
    assert codes <= set(REASONS), sorted(codes - set(REASONS))
    with app.test_request_context("/?lang=th"):
        for text in [*PASSED.values(), *REASONS.values()]:
            thai = str(text)
            assert thai and not thai.isascii(), f"no Thai for {text._args}"


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


@pytest.mark.parametrize(
    ("written", "spaced"),
    [
        ("ตะกั่วในข้าว", "ตะกั่ว ข้าว"),
        ("ความชื้นข้าว", "ความชื้น ข้าว"),
        ("ตะกั่วในrice", "ตะกั่ว rice"),
    ],
)
def test_thai_as_written_finds_what_its_spaced_form_finds(get, written, spaced):
    as_written = get(f"/api/v1/search?q={written}&status=all").json
    as_spaced = get(f"/api/v1/search?q={spaced}&status=all").json
    assert as_written["total"] == as_spaced["total"] > 0
    assert as_written["results"] == as_spaced["results"]


def test_nothing_found_suggests_the_registers_words(get):
    data = get("/api/v1/search?q=moistre&status=all").json
    assert data["total"] == 0
    assert "moisture" in data["suggestions"]
    page = get("/search?q=moistre&status=all").get_data(as_text=True)
    assert 'class="suggestions"' in page
    assert "q=moisture" in page


def test_a_certificate_number_lands_in_any_case_and_either_box(get, app):
    with current.database(app).session() as session:
        cert = session.scalars(select(Certificate)).first()
        number, accreditation = cert.number, cert.accreditation.number
    for typed in (number, number.lower(), number.upper()):
        for url in (f"/?q={typed}", f"/c?number={typed}", f"/c/{typed}"):
            response = get(url)
            if typed == number and url.startswith("/c/"):
                assert response.status_code == 200
                continue
            assert response.status_code == 302, url
            assert response.location == f"/c/{number}", url
    assert get(f"/c?number={accreditation.lower()}").location == f"/a/{accreditation}"
    assert get(f"/c/{accreditation}").location == f"/a/{accreditation}"
    lower = get(f"/api/v1/certificates/{number.lower()}")
    assert lower.status_code == 200
    assert lower.json["certificate"]["number"] == number
    assert get(f"/?q={accreditation}/R99").status_code == 200  # no such revision: a search
    assert get(f"/c/{accreditation}/R99").status_code == 404


def test_results_say_why_they_matched_and_carry_the_query_to_the_record(get):
    page = get("/search?q=ตะกั่วในข้าว").get_data(as_text=True)
    assert "<mark>ตะกั่ว</mark>" in page
    assert '<ul class="matches"' in page
    link = re.search(r'<a class="name" href="([^"]+)"', page)[1]
    assert "?q=%E0%B8" in link and link.endswith("#scope")  # the Thai terms go along
    record = get(html.unescape(link).split("#")[0], headers={"Accept": "application/json"})
    assert 0 < record.json["scope"]["total"] < record.json["scope"]["in_scope"]
    data = get("/api/v1/search?q=ตะกั่วในข้าว").json
    first = data["results"][0]
    assert first["matches"] and first["scope_filter"]
    scope = get(f"{first['url']}?q={first['scope_filter']}", headers={"Accept": "application/json"})
    assert scope.json["scope"]["total"] > 0


def test_thai_readers_get_thai_names_first_in_thai_order(get):
    data = get("/api/v1/search?q=ตะกั่ว&status=valid&lang=th").json  # one tier
    names = [r["name_th"] for r in data["results"]]
    assert names == collate(names)
    page = get("/search?q=ตะกั่ว&status=valid&lang=th").get_data(as_text=True)
    first = re.search(r'<a class="name" href="[^"]+">([^<]+)</a>', page)[1]
    assert first == names[0]


PUBLIC_READS = [
    "/api/v1/search?q=rice",
    "/api/v1/openapi.json",
    "/exports/registry.csv",
    "/feeds/status.atom",
    "/pki/jwks.json",
    "/status/list",
    "/pki/root.pem",
]


@pytest.mark.parametrize("url", PUBLIC_READS)
def test_public_reads_allow_any_origin_with_a_preflight(app, url):
    client = app.test_client()
    response = client.get(url, headers={"Origin": "https://example.org"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    preflight = client.options(
        url,
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("url", ["/", "/search?q=rice", "/verify", "/office/login"])
def test_pages_and_uploads_stay_same_origin(app, url):
    client = app.test_client()
    assert "Access-Control-Allow-Origin" not in client.get(url).headers
    preflight = client.options("/api/v1/verify", headers={"Origin": "https://example.org"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    upload = client.options(
        "/api/v1/verify",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in upload.headers


def test_per_page_is_honoured_up_to_100(get):
    assert len(get("/api/v1/search?per_page=3").json["results"]) == 3
    many = get("/api/v1/search?per_page=100").json
    assert many["per_page"] == 100
    assert len(many["results"]) == min(100, many["total"])
    page_two = get("/api/v1/search?per_page=3&page=2").json["results"]
    first_six = get("/api/v1/search?per_page=6").json["results"]
    assert page_two == first_six[3:]
    for bad in ("101", "0", "-1", "abc", "1e3", "²"):
        refused = get(f"/api/v1/search?per_page={bad}")
        assert refused.status_code == 400, bad
        assert "per_page" in refused.json["error"]["detail"]
    page = get("/search?per_page=5").get_data(as_text=True)
    assert "per_page=5" in page  # the pages' links keep it


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("/api/v1/search?q=rice&stauts=valid", "stauts"),
        ("/api/v1/search?per-page=5", "per-page"),
        ("/api/v1/accreditations/Testing-0001?sort=name", "sort"),
        ("/api/v1/cabs/1?x=1", "x"),
        ("/api/v1/openapi.json?callback=f", "callback"),
    ],
)
def test_unknown_parameters_are_refused_naming_the_known_ones(get, url, named):
    response = get(url)
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "unknown_parameter"
    assert named in error["detail"]
    if url.startswith("/api/v1/search"):
        assert (
            "q, programme, field, province, place, status, page, per_page, lang" in error["detail"]
        )
    thai = get(url + "&lang=th" if "?" in url else url)
    assert thai.status_code == 400


@pytest.mark.parametrize(
    ("url", "code", "named"),
    [
        ("/api/v1/search?q=rice&q=fish", "repeated_parameter", "q"),
        ("/api/v1/search?lang=en&lang=en", "repeated_parameter", "lang"),
        ("/api/v1/search?lang=fr", "bad_parameter", "en, th"),
        ("/api/v1/search?programme=cooking", "bad_parameter", "testing"),
        ("/api/v1/cabs/1?lang=null", "bad_parameter", "lang"),
    ],
)
def test_repeated_parameters_and_values_off_the_list_are_refused(get, url, code, named):
    """Found by the schemathesis run: ``lang=null&lang=null`` was answered 200."""
    response = get(url)
    assert response.status_code == 400
    assert response.json["error"]["code"] == code
    assert named in response.json["error"]["detail"]
    assert get("/api/v1/search?programme=&status=").status_code == 200  # empty means absent


def test_a_method_not_allowed_says_which_are(get, app):
    """Found by the schemathesis run: a 405 without ``Allow`` (RFC 9110 requires it)."""
    client = app.test_client()
    response = client.delete("/api/v1/search", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_the_licence_is_in_the_document_the_exports_and_the_footer(get, tmp_path):
    licence = get("/api/v1/openapi.json").json["info"]["license"]
    assert licence == {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}
    url = licence["url"]
    for export in ("/exports/registry.csv", "/exports/registry.json", "/feeds/status.atom"):
        assert get(export).headers["Link"] == f'<{url}>; rel="license"', export
    data = json.loads(get("/exports/registry.json").get_data(as_text=True))
    assert data["license"] == licence
    assert f"{url}" in get("/feeds/status.atom").get_data(as_text=True)
    for lang in ("en", "th"):
        page = get(f"/search?lang={lang}").get_data(as_text=True)
        assert f'<a href="{url}" rel="license">CC BY 4.0</a>' in page

    other = demo_instance(
        tmp_path / "ogl",
        3,
        DATA_LICENCE="OGL-UK-3.0",
        DATA_LICENCE_URL="https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    ).test_client()
    document = other.get("/api/v1/openapi.json").json
    validate(document)
    assert document["info"]["license"]["name"] == "OGL-UK-3.0"
    assert "OGL-UK-3.0</a>" in other.get("/").get_data(as_text=True)


def test_the_record_page_filter_takes_thai_as_written(get):
    hit = get("/api/v1/search?q=ตะกั่ว ข้าวสาร").json["results"][0]
    url = hit["url"]
    spaced = get(f"{url}?q=ตะกั่ว", headers={"Accept": "application/json"}).json["scope"]
    written = get(f"{url}?q=ตะกั่วใน", headers={"Accept": "application/json"}).json["scope"]
    assert written["total"] == spaced["total"] > 0


def test_a_changed_copy_offers_what_the_agency_signed(app):
    import base64
    import re

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    number, pdf = genuine_pdf(app)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    stream = generic.StreamObject(stream_data=b"BT /F1 40 Tf 100 500 Td (VALID TO 2099) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(stream))
    changed = io.BytesIO()
    writer.write(changed)
    client = app.test_client()
    for lang, words in (
        ("en", ("Changed after it was signed", "What the agency signed", "What the register says")),
        ("th", ("ถูกเปลี่ยนแปลงหลังจากลงนาม", "ฉบับที่หน่วยงานลงนาม", "ดาวน์โหลดต้นฉบับที่ลงนาม")),
    ):
        page = client.post(
            f"/verify?lang={lang}",
            data={"file": [(io.BytesIO(changed.getvalue()), "changed.pdf")]},
            content_type="multipart/form-data",
        ).get_data(as_text=True)
        for word in words:
            assert word in page, (lang, word)
        # No contradiction: the card never claims the changed copy is current.
        assert "Current in the register" not in page and "(OTHER)" not in page
    link = re.search(r'href="data:application/pdf;base64,([^"]+)"', page).group(1)
    original = base64.b64decode(link)
    assert pdf.startswith(original) and original.rstrip().endswith(b"%%EOF")
    report = client.post(
        "/api/v1/verify",
        data={"file": [(io.BytesIO(changed.getvalue()), "changed.pdf")]},
        content_type="multipart/form-data",
    ).json["reports"][0]
    assert report["headline"] == {
        "integrity": "changed_after_signing",
        "issuer": "changed_copy",
        "status": "not_for_this_file",
    }
    assert report["register"]["certificate"]["number"] == number


def test_a_batch_gets_a_summary_first(app):
    import base64
    import csv
    import re

    _, pdf = genuine_pdf(app)
    files = [(io.BytesIO(pdf), f"genuine-{i}.pdf") for i in range(7)]
    files += [(io.BytesIO(pdf[:-3000]), f"cut-{i}.pdf") for i in range(2)]
    files += [(io.BytesIO(b"<html>"), "page.pdf")]
    page = (
        app.test_client()
        .post("/verify", data={"file": files}, content_type="multipart/form-data")
        .get_data(as_text=True)
    )
    assert 'role="status"' in page
    assert page.index('id="summary"') < page.index('class="card')
    assert "Valid: <strong>7</strong>" in page
    assert page.count("<tr><td data-label=") == 10
    assert "Valid: genuine-0.pdf" in page  # each card's heading carries its answer
    link = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', page).group(1)
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(link).decode())))
    assert [r["answer"] for r in rows].count("valid") == 7
    assert rows[-1]["file"] == "page.pdf" and rows[-1]["answer"] == "unreadable"
    assert re.search(r'href="data:application/json;base64,', page)


def test_a_partial_suspension_lists_its_items_everywhere(app, spec):
    """One vocabulary: the QR page, /verify, the API and the verifier name the items."""
    from registry.acts.decisions import record
    from registry.certificates.issuance import find_accreditation
    from registry.register.standings import standings
    from registry.register.status import ItemState
    from verifier.rules import suspended_items_text

    number, pdf = genuine_pdf(app)
    accreditation_no = number.split("/")[0]
    today = datetime.now(UTC).date()
    with current.database(app).transaction() as session:
        acc = find_accreditation(session, accreditation_no)
        states = standings(session, datetime.now(UTC), [acc.id])[acc.id].items
        item = next(i for i in acc.scope_items if states[i.id] is ItemState.ACTIVE)
        officer, approver = factories.staff_pair(session)
        record(
            session,
            acc,
            EventKind.SUSPENDED,
            today,
            proposed_by=officer,
            approved_by=approver,
            reason_en="Proficiency test failed",
            items=[item],
            until=today.replace(year=today.year + 1),
        )
        product = item.product_en
    client = app.test_client()
    answer = client.get(f"/c/{number}", headers={"Accept": "application/json"}).json
    assert answer["status"] == "partially_suspended"
    (listed,) = answer["suspended_items"]
    assert listed["product_en"] == product and listed["since"] == today.isoformat()
    assert listed["until"] == today.replace(year=today.year + 1).isoformat()
    page = client.get(f"/c/{number}").get_data(as_text=True)
    assert html.escape(product) in page and "suspended from" in page
    thai = client.get(f"/c/{number}?lang=th").get_data(as_text=True)
    assert "พ.ศ." in thai
    checked = client.post(
        "/verify?lang=en",
        data={"file": [(io.BytesIO(pdf), "a.pdf")]},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "valid with part of its scope suspended" in checked
    assert html.escape(product) in checked and "no longer current" not in checked
    report = client.post(
        "/api/v1/verify",
        data={"file": [(io.BytesIO(pdf), "a.pdf")]},
        content_type="multipart/form-data",
    ).json["reports"][0]
    status = next(c for c in report["checks"] if c["name"] == "status")
    assert product in status["detail"] and "suspended:" in status["detail"]
    assert product in suspended_items_text(answer["suspended_items"])


def test_each_card_offers_a_signed_validation_report(app):
    import base64

    from registry.pki.material import get_pki
    from verifier.validation_report import verify_signed_report

    number, pdf = genuine_pdf(app)
    page = (
        app.test_client()
        .post(
            "/verify?lang=en",
            data={"file": [(io.BytesIO(pdf), "genuine.pdf")]},
            content_type="multipart/form-data",
        )
        .get_data(as_text=True)
    )
    assert "Validation report, signed by" in page
    link = re.search(r'href="data:application/json;base64,([^"]+)" download="genuine-valid', page)
    document = verify_signed_report(base64.b64decode(link.group(1)), get_pki(app).qr_jwks())
    assert document["answer"]["verdict"] == "valid"
    assert document["register"]["certificate"]["number"] == number
    printed = re.search(r'href="data:application/pdf;base64,([^"]+)" download="genuine-valid', page)
    sheet = base64.b64decode(printed.group(1))
    assert sheet.startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=sheet, capture_output=True, check=True
    ).stdout.decode()
    # Each check in both languages: the verifier's detail, then the Thai sentence.
    assert "the signature matches the signed content" in text
    assert "ลายมือชื่อตรงกับเนื้อหาที่ลงนาม" in text
