"""A real PostgreSQL streaming replica: the public reads it, staff and writes use the primary.

The test builds a private primary and a hot standby of it (``pg_basebackup
-R``, see ``tests.pgcluster``), points an app at both
(``ACCREDIT_DATABASE_REPLICA_URL``), then pauses the standby's replay
(``pg_wal_replay_pause()``) and records a suspension on the primary. While it
lags, the public (pages, the API, search) sees the register as the replica has
it, consistently (the ETag and ``Last-Modified`` are the replica's version
too, so no cache keeps a mix); a staff member sees the suspension at once, on
the back office and on the public page alike. When replay resumes, the public
sees it as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from registry.accounts.services import add_staff
from registry.certificates.issuance import find_accreditation
from registry.register.status import EventKind
from registry.settings import SettingsError, from_environ
from registry.staff.models import StaffRole
from registry.web import current

from ..documents import demo_instance, valid_numbers
from ..pgcluster import Cluster, ClusterUnavailable, caught_up, primary_and_replica, unavailable
from .factories import decide
from .office.conftest import PASSWORD, Person, csrf_of


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[Cluster, Cluster]]:
    try:
        with primary_and_replica() as pair:
            yield pair
    except ClusterUnavailable as exc:
        unavailable(str(exc))


def staff_client(app: Flask) -> object:
    with current.database(app).transaction() as session:
        made = add_staff(
            session,
            "officer@agency.test",
            "Officer",
            {StaffRole.OFFICER},
            PASSWORD,
            issuer="TISI",
            by=None,
            now=datetime.now(UTC),
        )
        person = Person(made.staff.email, made.staff.totp_secret, made.staff.id)
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    answer = client.post(
        "/staff/login",
        data={
            "csrf_token": csrf_of(page),
            "email": person.email,
            "password": PASSWORD,
            "code": person.code(),
        },
    )
    assert answer.status_code == 302
    return client


def status_of(client: object, number: str) -> tuple[str, str]:
    """The public record's status word and its ETag."""
    answer = client.get(f"/a/{number}", headers={"Accept": "application/json"})  # type: ignore[attr-defined]
    assert answer.status_code == 200, answer.status_code
    return answer.get_json()["accreditation"]["status"], answer.headers["ETag"]


def test_public_reads_follow_the_replica_staff_see_their_own_writes(
    tmp_path: Path, clusters: tuple[Cluster, Cluster]
) -> None:
    primary, replica = clusters
    primary.execute("CREATE DATABASE accredit")
    app = demo_instance(
        tmp_path / "instance",
        3,
        DATABASE_URL=primary.url("accredit"),
        DATABASE_REPLICA_URL=replica.url("accredit"),
    )
    assert current.database(app).replica is not None
    number = valid_numbers(app)[0]
    with current.database(app).session() as session:
        cab = find_accreditation(session, number).cab_id
    caught_up(primary, replica)
    public = app.test_client()
    before, etag = status_of(public, number)
    assert before == "valid"
    staff = staff_client(app)
    caught_up(primary, replica)

    replica.execute("SELECT pg_wal_replay_pause()", "accredit")
    try:
        decide(app, number, EventKind.SUSPENDED, reason="Replica lag test")
        # The public: the replica's register, the same as before, the same ETag.
        assert status_of(public, number) == (before, etag)
        api = public.get(f"/api/v1/accreditations/{number}")
        assert api.status_code == 200 and api.get_json()["accreditation"]["status"] == "valid"
        found = public.get(f"/api/v1/search?q={number}").get_json()
        assert [r["status"] for r in found["results"] if r["accreditation"] == number] == ["valid"]
        # Staff: the primary, on the back office and on the public page alike.
        office = staff.get(f"/staff/accreditations/{number}")  # type: ignore[attr-defined]
        assert office.status_code == 200
        assert "status-suspended" in office.get_data(as_text=True)
        assert status_of(staff, number)[0] == "suspended"
        # Writes never reach the replica: a staff action while it lags still works.
        assert staff.get("/staff/").status_code == 200  # type: ignore[attr-defined]
    finally:
        replica.execute("SELECT pg_wal_replay_resume()", "accredit")

    caught_up(primary, replica)
    after, new_etag = status_of(public, number)
    assert after == "suspended" and new_etag != etag

    # The replica stops: the request that meets it gets the last copy (or a 503);
    # the public is then answered by the primary, until the replica is tried again.
    replica.stop()
    first = public.get(f"/cab/{cab}", headers={"Accept": "application/json"})
    assert first.status_code in (200, 503) and ("Warning" in first.headers) == (
        first.status_code == 200
    )
    answer = public.get(f"/api/v1/accreditations/{number}")
    assert answer.status_code == 200 and "Warning" not in answer.headers
    assert answer.get_json()["accreditation"]["status"] == "suspended"


def test_only_the_public_s_reads_go_to_the_replica(app: Flask) -> None:
    """The one rule, ``current.public_read``: GET or HEAD, outside /staff, no session cookie."""
    with app.app_context():
        rule = current.public_read
        assert rule({"REQUEST_METHOD": "GET", "PATH_INFO": "/a/Testing-0001"})
        assert rule({"REQUEST_METHOD": "HEAD", "PATH_INFO": "/api/v1/search"})
        assert rule({"REQUEST_METHOD": "GET", "PATH_INFO": "/staffing"})
        assert not rule({"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/verify"})
        assert not rule({"REQUEST_METHOD": "GET", "PATH_INFO": "/staff"})
        assert not rule({"REQUEST_METHOD": "GET", "PATH_INFO": "/staff/cases"})
        cookie = {"HTTP_COOKIE": "lang=th; accredit_session=abc"}
        assert not rule({"REQUEST_METHOD": "GET", "PATH_INFO": "/a/Testing-0001", **cookie})
        assert rule({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_COOKIE": "lang=th"})
        # Without a replica, the public reads the primary.
        assert current.reader({"REQUEST_METHOD": "GET"}) is current.database()


def test_a_replica_needs_postgresql(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SQLite has no replicas"):
        from_environ(
            {},
            {
                "INSTANCE": str(tmp_path),
                "DATABASE_REPLICA_URL": "postgresql://postgres@127.0.0.1:5433/accredit",
            },
        )
    found = from_environ(
        {},
        {
            "DATABASE_URL": "postgresql://postgres@127.0.0.1/accredit",
            "DATABASE_REPLICA_URL": "postgresql://postgres@127.0.0.1:5433/accredit",
        },
    )
    assert found.database_replica_url == "postgresql://postgres@127.0.0.1:5433/accredit"
