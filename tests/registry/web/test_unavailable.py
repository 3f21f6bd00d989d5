"""The database down: every public route answers 503 at once, in its shape, and recovers."""

from __future__ import annotations

import time

import pytest

from registry import db

from .test_errors import HTML, JSON, assert_locked_down

PUBLIC_ROUTES = [
    "/",
    "/search?q=rice",
    "/V/AAAA",
    "/c/Testing-0001/R1",
    "/a/Testing-0001",
    "/cab/1",
    "/feeds/status.atom",
    "/feeds/cab/1.atom",
    "/feeds/a/Testing-0001.atom",
    "/feeds/a/Testing-0001/archive/1.atom",
    "/api/v1/search?q=rice",
    "/api/v1/accreditations/Testing-0001",
    "/api/v1/cabs/1",
    "/log/checkpoint",
    "/exports/registry.csv",
    "/exports/registry.json",
]
#: PostgreSQL on a port where nothing listens, and SQLite in a folder that does not exist.
DOWN = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/accredit",
    "sqlite": "sqlite:///{tmp}/missing/accredit.sqlite3",
}


def assert_unavailable(response, wants_json: bool) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "OperationalError" not in text
    if wants_json:
        assert response.json["error"]["code"] == "database_unavailable"
    else:
        assert response.mimetype == "text/html" and "cannot be reached" in text
    assert_locked_down(response)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("propagate", [False, True], ids=["production", "testing"])
def test_every_public_route_answers_503_within_2_seconds(make_app, tmp_path, backend, propagate):
    app = make_app(DATABASE_URL=DOWN[backend].format(tmp=tmp_path))
    app.config["PROPAGATE_EXCEPTIONS"] = propagate
    client = app.test_client()
    for path in PUBLIC_ROUTES:
        for headers in (HTML, JSON):
            started = time.monotonic()
            response = client.get(path, headers=headers)
            assert time.monotonic() - started < 2, path
            assert_unavailable(response, headers is JSON or path.startswith("/api/"))
    health = client.get("/healthz")
    assert health.status_code == 503 and health.headers["Retry-After"]
    assert_locked_down(health)


def test_the_register_recovers_without_a_restart(make_app, tmp_path):
    folder = tmp_path / "later"
    url = f"sqlite:///{folder}/accredit.sqlite3"
    client = make_app(DATABASE_URL=url).test_client()
    assert client.get("/cab/1").status_code == 503
    assert client.get("/healthz").status_code == 503
    folder.mkdir()
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    assert client.get("/healthz").status_code == 200
    assert client.get("/cab/1").status_code == 404  # answered from the register again
    assert client.get("/", headers=JSON).status_code == 200


def test_web_engines_have_a_budget_and_command_engines_do_not(tmp_path):
    web = db.make_engine("postgresql://postgres@127.0.0.1:5432/postgres", 2)
    assert web.pool.timeout() == 2 and web.pool._pre_ping
    with web.connect() as conn:
        # A little under the 2 s budget, which bounds our wait for the answer (db.Bound).
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "1750ms"
    web.dispose()
    command = db.make_engine("postgresql://postgres@127.0.0.1:5432/postgres")
    with command.connect() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "0"
    command.dispose()
    lite = db.make_engine(f"sqlite:///{tmp_path}/x.sqlite3", 2)
    with lite.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 2000
    lite.dispose()


@pytest.mark.parametrize("processes", [0, 1], ids=["in-process", "pool"])
def test_verification_still_runs_when_the_database_is_down(tmp_path, processes):
    """The signature checks need no database: status "unknown", never a 500 or a 503."""
    import io

    from registry.app import create_app
    from registry.web import current

    from ...documents import demo_instance, issue_certificates

    folder = tmp_path / "instance"
    base = demo_instance(folder, 5)
    (issued,) = issue_certificates(base, 1)
    current.database(base).engine.dispose()
    down = create_app(
        {
            "INSTANCE": str(folder),
            "DATABASE_URL": DOWN["postgresql"],
            "VERIFY_PROCESSES": str(processes),
        }
    )
    client = down.test_client()
    started = time.monotonic()
    response = client.post(
        "/api/v1/verify",
        data={"file": [(io.BytesIO(issued.pdf), "genuine.pdf")]},
        content_type="multipart/form-data",
    )
    assert time.monotonic() - started < 20
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    (report,) = response.json["reports"]
    assert report["status"] == "unknown" and report["register"] is None
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["signature_integrity"]["passed"] and checks["signer_trusted"]["passed"]
    assert checks["registry_binding"]["code"] == "registry_unreachable"
    assert checks["registry_binding"]["outcome"] == "indeterminate"
    assert report["document"] == "authentic"  # bound by its signed QR payload alone
    assert report["verdict"] == "not_current"


def test_record_pages_answer_from_their_last_copy_while_the_database_is_down(tmp_path):
    """stale-if-error: the last copy, marked "as of", never cached; no copy: still 503."""
    import shutil

    from registry import db as db_module
    from registry.app import create_app
    from registry.web import current

    from ...documents import demo_instance, issue_certificates

    folder = tmp_path / "instance"
    store = tmp_path / "store"
    store.mkdir()
    url = f"sqlite:///{store}/accredit.sqlite3"
    base = demo_instance(folder, 5, DATABASE_URL=url)
    (issued,) = issue_certificates(base, 1)
    number = issued.certificate.number
    accreditation = number.split("/")[0]
    app = create_app({"INSTANCE": str(folder), "DATABASE_URL": url})
    client = app.test_client()
    fresh = client.get(f"/a/{accreditation}?lang=th")
    assert fresh.status_code == 200
    assert client.get(f"/c/{number}", headers=JSON).status_code == 200
    # The database goes away: its folder is moved, and kept connections are dropped.
    shutil.move(store, tmp_path / "elsewhere")
    for each in (app, base):
        current.database(each).engine.dispose()
    db_module._local.__dict__.pop("connections", None)
    stale = client.get(f"/a/{accreditation}?lang=th")
    assert stale.status_code == 200
    page = stale.get_data(as_text=True)
    assert 'class="stale" role="alert"' in page and "พ.ศ." in page
    assert "นี่คือสำเนาล่าสุดที่เครื่องบริการนี้แสดง" in page
    assert stale.headers["Cache-Control"] == "no-store"
    assert stale.headers["Warning"].startswith("110")
    assert stale.headers["X-Register-As-Of"] and "ETag" not in stale.headers
    assert_locked_down(stale)
    as_json = client.get(f"/c/{number}", headers=JSON)
    assert as_json.status_code == 200 and as_json.json["stale"]["as_of"]
    assert as_json.json["certificate"]["number"] == number
    # A page never served before has no copy: the 503 stands.
    assert_unavailable(client.get(f"/a/{accreditation}?lang=en"), False)
