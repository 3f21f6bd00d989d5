"""Open data exports: their columns, statuses that agree, and files that are never cut short.

On SQLite and PostgreSQL (the ``app`` fixture runs each test on both).
"""

from __future__ import annotations

import csv
import io
import json
import stat
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from sqlalchemy import update

from registry import version
from registry.certificates.issuance import find_accreditation
from registry.dates import local_date
from registry.opendata import files
from registry.opendata.exports import CSV_COLUMNS
from registry.register.models import Cab
from registry.register.status import EventKind
from registry.web import current

from ...conftest import BACKENDS
from ...documents import demo_instance
from .. import factories

#: The columns as first published: their positions must never move.
FIRST_COLUMNS = (
    "cab_id",
    "cab_name_en",
    "cab_name_th",
    "national_id",
    "cab_email",
    "cab_phone",
    "cab_website",
    "accreditation_number",
    "programme",
    "standard",
    "accreditation_status",
    "valid_from",
    "valid_until",
    "scope_item_id",
    "item_status",
    "site_name_en",
    "province_en",
    "country",
    "field_en",
    "field_th",
    "product_en",
    "product_th",
    "parameter_en",
    "parameter_th",
    "method",
    "range",
    "cmc",
)
TODAY = local_date(datetime.now(UTC))


def granted(app, **kwargs):
    """A granted accreditation, committed through the write path; returns its number."""
    with current.database(app).transaction() as session:
        acc = factories.accreditation(session, **kwargs)
        staff = factories.staff_pair(session)
        factories.event(session, acc, EventKind.GRANTED, acc.valid_from, staff=staff)
        return acc.number


def csv_rows(client) -> list[dict[str, str]]:
    response = client.get("/exports/registry.csv")
    assert response.status_code == 200, response.data[:300]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def rows_of(client, number: str) -> list[dict[str, str]]:
    return [r for r in csv_rows(client) if r["accreditation_number"] == number]


def json_accreditation(client, number: str) -> dict:
    data = json.loads(client.get("/exports/registry.json").get_data(as_text=True))
    return next(a for c in data["cabs"] for a in c["accreditations"] if a["number"] == number)


def test_columns_keep_their_order_and_new_ones_come_last():
    assert CSV_COLUMNS[: len(FIRST_COLUMNS)] == FIRST_COLUMNS
    assert set(CSV_COLUMNS) >= {
        "site_address_en",
        "site_address_th",
        "province_th",
        "status_since",
        "status_reason_en",
        "status_reason_th",
        "current_certificate",
        "current_certificate_url",
    }
    assert len(set(CSV_COLUMNS)) == len(CSV_COLUMNS)


def test_rows_carry_the_site_address_and_province_in_both_languages(app):
    number = granted(app, province=("Chiang Mai", "เชียงใหม่"))
    client = app.test_client()
    response = client.get("/exports/registry.csv")
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert tuple(header) == CSV_COLUMNS
    rows = rows_of(client, number)
    assert len(rows) == 3
    row = rows[0]
    assert row["item_status"] == "active" and row["accreditation_status"] == "valid"
    assert row["site_address_en"] == "1 Rama IV Road, Bangkok 10110, Thailand"
    assert row["site_address_th"].startswith("เลขที่ 1")
    assert (row["province_en"], row["province_th"]) == ("Chiang Mai", "เชียงใหม่")
    assert row["status_since"] == "2024-01-15" and row["status_reason_en"] == ""
    assert row["current_certificate"] == ""  # none issued
    acc = json_accreditation(client, number)
    assert acc["scope"][0]["site_address_th"] == row["site_address_th"]
    assert acc["scope"][0]["province_th"] == "เชียงใหม่"
    assert acc["current_certificate"] is None


@pytest.mark.parametrize(
    ("kind", "status", "item_status"),
    [
        (EventKind.WITHDRAWN, "withdrawn", "withdrawn"),
        (EventKind.VOLUNTARILY_WITHDRAWN, "withdrawn", "withdrawn"),
        (EventKind.SUSPENDED, "suspended", "suspended"),
    ],
)
def test_no_line_is_active_under_a_stopped_accreditation(app, kind, status, item_status):
    number = granted(app)
    factories.decide(app, number, kind, reason="Failed proficiency testing")
    client = app.test_client()
    rows = rows_of(client, number)
    assert rows and {r["accreditation_status"] for r in rows} == {status}
    assert {r["item_status"] for r in rows} == {item_status}
    assert {r["status_since"] for r in rows} == {TODAY.isoformat()}
    assert {r["status_reason_en"] for r in rows} == {"Failed proficiency testing"}
    assert {r["current_certificate"] for r in rows} == {""}
    acc = json_accreditation(client, number)
    assert {i["status"] for i in acc["scope"]} == {item_status}
    assert acc["status_reason_en"] == "Failed proficiency testing"


def test_an_expired_accreditation_has_expired_lines(app):
    number = granted(app, granted=date(2020, 1, 1), valid_until=TODAY - timedelta(days=1))
    rows = rows_of(app.test_client(), number)
    assert {r["accreditation_status"] for r in rows} == {"expired"}
    assert {r["item_status"] for r in rows} == {"expired"}
    assert {r["status_since"] for r in rows} == {TODAY.isoformat()}


def test_a_partial_suspension_suspends_only_its_lines(app):
    number = granted(app)
    with current.database(app).session() as session:
        first = find_accreditation(session, number).scope_items[0].id
    with current.database(app).transaction() as session:
        acc = find_accreditation(session, number)
        factories.event(
            session,
            acc,
            EventKind.SUSPENDED,
            TODAY,
            staff=factories.staff_pair(session),
            items=[i for i in acc.scope_items if i.id == first],
        )
    rows = {int(r["scope_item_id"]): r for r in rows_of(app.test_client(), number)}
    assert rows[first]["item_status"] == "suspended"
    assert {r["item_status"] for i, r in rows.items() if i != first} == {"active"}
    assert {r["accreditation_status"] for r in rows.values()} == {"partially_suspended"}


# --- files: built once per version, served whole --------------------------------------


def test_an_export_is_a_whole_file_with_length_and_strong_etag(app):
    granted(app)
    client = app.test_client()
    for fmt in files.FORMATS:
        response = client.get(f"/exports/registry.{fmt}")
        assert response.status_code == 200
        body = response.get_data()
        assert int(response.headers["Content-Length"]) == len(body)
        etag = response.headers["ETag"]
        assert etag.startswith('"') and not etag.startswith("W/")
        assert response.headers["Link"].endswith('rel="license"')
        assert "attachment" in response.headers["Content-Disposition"]
        again = client.get(f"/exports/registry.{fmt}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["ETag"] == etag
        if fmt == "json":
            json.loads(body)  # complete, so it parses


def test_files_are_private_and_a_new_version_replaces_the_old(app):
    number = granted(app)
    client = app.test_client()
    first = client.get("/exports/registry.csv").headers["ETag"]
    assert client.get("/exports/registry.csv").headers["ETag"] == first  # not rebuilt
    folder = next((current.settings(app).instance / files.FOLDER).glob("bound-*"))
    built = list(folder.glob("registry-*.csv"))
    assert len(built) == 1
    assert stat.S_IMODE(built[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700

    factories.decide(app, number, EventKind.SUSPENDED)
    response = client.get("/exports/registry.csv")
    assert response.headers["ETag"] != first
    assert client.get("/exports/registry.csv", headers={"If-None-Match": first}).status_code == 200
    left = list(folder.glob("registry-*.csv"))
    assert len(left) == 1 and left[0] != built[0]  # the old version's file is pruned
    assert not list(folder.glob(".build-*"))


def test_a_build_that_cannot_be_written_is_a_503_before_anything_is_sent(app):
    instance = current.settings(app).instance
    (instance / files.FOLDER).write_text("not a folder")  # so the build fails on disk
    response = app.test_client().get("/exports/registry.csv", headers={"Accept": "text/csv"})
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in response.get_data(as_text=True)
    json_answer = app.test_client().get(
        "/exports/registry.json", headers={"Accept": "application/json"}
    )
    assert json_answer.status_code == 503
    assert json_answer.json["error"]["code"] == "export_unavailable"


# --- one snapshot, one builder, on a real (unbound) database ----------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def instance(request, tmp_path_factory, make_database_url):
    """A committed demo register per backend (no test transaction around it)."""
    url = make_database_url(request.param)
    app = demo_instance(tmp_path_factory.mktemp("exports"), 12, DATABASE_URL=url)
    yield app
    current.database(app).engine.dispose()


def test_a_snapshot_does_not_see_a_change_committed_during_it(instance):
    database = current.database(instance)
    now = datetime.now(UTC)
    with database.snapshot() as session:
        before = version.current(session, now).number
        name = session.get(Cab, 1).name_en
        with database.transaction() as writer:
            version.bump(writer, now)
            writer.execute(update(Cab).where(Cab.id == 1).values(name_en="Renamed Co., Ltd."))
        assert version.current(session, now).number == before
        session.expire_all()
        assert session.get(Cab, 1).name_en == name
    with database.snapshot() as session:
        assert version.current(session, now).number == before + 1
    with database.transaction() as writer:  # put the name back, as a new version
        version.bump(writer, now)
        writer.execute(update(Cab).where(Cab.id == 1).values(name_en=name))


def test_concurrent_requests_build_once(instance, monkeypatch):
    database = current.database(instance)
    with database.transaction() as writer:  # a version no file exists for yet
        version.bump(writer, datetime.now(UTC))
    builds = []
    real_build = files.build

    def counted(*args, **kwargs):
        builds.append(threading.get_ident())
        return real_build(*args, **kwargs)

    monkeypatch.setattr(files, "build", counted)
    answers: list[tuple[int, str, int]] = []

    def fetch() -> None:
        response = instance.test_client().get("/exports/registry.json")
        answers.append((response.status_code, response.headers["ETag"], len(response.data)))

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 6
    assert {a[0] for a in answers} == {200}
    assert len({a[1] for a in answers}) == 1 and len({a[2] for a in answers}) == 1
    assert len(builds) == 1
    folder = current.settings(instance).instance / files.FOLDER
    assert len(list(folder.glob("registry-*.json"))) == 1


def test_the_record_and_its_api_answer_agree_with_the_export(app, spec):
    """The line status the record shows is the export's: not "in scope" under a withdrawal."""
    number = granted(app)
    factories.decide(app, number, EventKind.WITHDRAWN)
    client = app.test_client()
    response = client.get(f"/api/v1/accreditations/{number}")
    spec.validate_response(
        WerkzeugOpenAPIRequest(response.request), WerkzeugOpenAPIResponse(response)
    )
    assert {i["status"] for i in response.json["scope"]["items"]} == {"withdrawn"}
    assert {r["item_status"] for r in rows_of(client, number)} == {"withdrawn"}
    page = client.get(f"/a/{number}?lang=en").get_data(as_text=True)
    assert "status-active" not in page and "status-withdrawn" in page


def test_a_slow_build_is_answered_from_the_previous_file_then_replaces_it(instance, monkeypatch):
    """A request waits ``BUILD_WAIT`` at most: gunicorn kills a worker silent for 30 s."""
    database = current.database(instance)
    client = instance.test_client()
    before = client.get("/exports/registry.csv")
    assert before.status_code == 200
    with database.transaction() as writer:
        version.bump(writer, datetime.now(UTC))
    release = threading.Event()
    real_build = files.build

    def slow(*args, **kwargs):
        assert release.wait(30)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(files, "build", slow)
    monkeypatch.setattr(files, "BUILD_WAIT", 0.2)
    meanwhile = client.get("/exports/registry.csv")
    assert meanwhile.status_code == 200
    assert meanwhile.data == before.data  # whole, and the previous version's
    assert meanwhile.headers["ETag"] == before.headers["ETag"]
    assert meanwhile.headers["Warning"].startswith("110 ")
    assert "no-cache" in meanwhile.headers["Cache-Control"]
    assert int(meanwhile.headers["Content-Length"]) == len(meanwhile.data)
    release.set()
    deadline = time.monotonic() + 30
    while True:  # the builder thread finishes on its own
        after = client.get("/exports/registry.csv")
        if "Warning" not in after.headers or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert "Warning" not in after.headers
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.headers["X-Register-Version"] != before.headers["X-Register-Version"]
    folder = current.settings(instance).instance / files.FOLDER
    assert len(list(folder.glob("registry-*.csv"))) == 1  # the older one pruned


def test_no_file_yet_and_a_slow_build_is_a_503_to_retry(instance, monkeypatch):
    folder = current.settings(instance).instance / files.FOLDER
    for path in folder.glob("registry-*.json"):
        path.unlink()
    release = threading.Event()
    real_build = files.build

    def slow(*args, **kwargs):
        assert release.wait(30)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(files, "build", slow)
    monkeypatch.setattr(files, "BUILD_WAIT", 0.2)
    response = instance.test_client().get(
        "/exports/registry.json", headers={"Accept": "application/json"}
    )
    assert response.status_code == 503
    assert response.json["error"]["code"] == "export_pending"
    assert int(response.headers["Retry-After"]) > 0
    release.set()
    monkeypatch.setattr(files, "BUILD_WAIT", 30)
    done = instance.test_client().get("/exports/registry.json")
    assert done.status_code == 200 and json.loads(done.data)["cabs"]
