"""Parallel work is safe: two issuances, or two decisions, at the same moment both succeed.

Real threads, real connections, committing to a database of their own, on
SQLite (writers queue: BEGIN IMMEDIATE and the busy timeout) and PostgreSQL
(writers serialise on the register version's row lock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from registry import version
from registry.acts.decisions import record
from registry.certificates.issuance import find_accreditation, issue
from registry.certificates.models import Certificate
from registry.changes import DEVELOPMENT, AuditEntry
from registry.pki.material import get_document_signer
from registry.register.status import EventKind
from registry.staff.models import StaffUser
from registry.web import current

from ..conftest import BACKENDS
from ..documents import demo_instance, valid_numbers
from . import factories

ROUNDS = 3


def at_once(*jobs: Callable[[], None]) -> list[BaseException]:
    """Run ``jobs`` in threads released together; return what they raised."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as exc:  # collected and reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.fixture(params=BACKENDS)
def instance(request, tmp_path, make_database_url):
    app = demo_instance(tmp_path / "instance", 20, DATABASE_URL=make_database_url(request.param))
    get_document_signer(app)  # load the key before the threads race
    yield app
    current.database(app).engine.dispose()


def test_two_issuances_at_the_same_moment_both_succeed(instance):
    database = current.database(instance)
    signer = get_document_signer(instance)
    first, second = valid_numbers(instance)[:2]

    def issuing(number: str) -> Callable[[], None]:
        def job() -> None:
            with database.transaction() as session:
                acc = find_accreditation(session, number)
                issue(session, acc, signer, current.settings(instance), actor=DEVELOPMENT)

        return job

    for _ in range(ROUNDS):
        # Two bodies at once, and the same body twice at once.
        assert at_once(issuing(first), issuing(second)) == []
        assert at_once(issuing(first), issuing(first)) == []
    with database.session() as session:
        revisions = sorted(
            session.execute(
                select(Certificate.number).where(Certificate.number.like(f"{first}/%"))
            ).scalars()
        )
        assert revisions == sorted(f"{first}/R{n}" for n in range(1, 3 * ROUNDS + 1))
        indexes = session.scalars(select(Certificate.status_list_index)).all()
        assert len(indexes) == len(set(indexes)) == 4 * ROUNDS
        issued = session.scalar(
            select(func.count()).where(AuditEntry.action == "certificate.issue")
        )
        assert issued == 4 * ROUNDS


def test_a_writer_waits_for_a_slow_writer_past_the_read_budget(instance):
    """Writers queue on the register's lock longer than a page may wait for the database.

    CI found this: on a loaded machine an issuance held the lock 2-3 s, and the
    issuance behind it was cancelled by the 2 s statement timeout of a request.
    """
    database = current.database(instance)
    budget = current.settings(instance).database_timeout
    held = threading.Event()

    def slow() -> None:
        with database.transaction() as session:
            version.lock(session)
            held.set()
            time.sleep(budget + 1)  # a long issuance, under the lock

    def behind() -> None:
        assert held.wait(10)
        with database.transaction() as session:
            version.lock(session)
            version.bump(session, datetime.now(UTC))

    assert at_once(slow, behind) == []


def test_two_decisions_at_the_same_moment_both_succeed(instance):
    database = current.database(instance)
    first, second = valid_numbers(instance)[:2]
    with database.transaction() as session:
        staff = [factories.staff_pair(session) for _ in range(2)]
        people = [(o.id, a.id) for o, a in staff]

    def deciding(number: str, pair: tuple[int, int], kind: EventKind) -> Callable[[], None]:
        def job() -> None:
            with database.transaction() as session:
                officer, approver = (session.get(StaffUser, i) for i in pair)
                record(
                    session,
                    find_accreditation(session, number),
                    kind,
                    datetime.now(UTC).date(),
                    proposed_by=officer,
                    approved_by=approver,
                    reason_en="Parallel",
                )

        return job

    assert (
        at_once(
            deciding(first, people[0], EventKind.SUSPENDED),
            deciding(second, people[1], EventKind.SUSPENDED),
        )
        == []
    )
    assert (
        at_once(
            deciding(first, people[0], EventKind.REINSTATED),
            deciding(first, people[1], EventKind.SUSPENDED),
        )
        == []
    )
    client = instance.test_client()
    for number in (first, second):
        status = client.get(f"/api/v1/accreditations/{number}").json["accreditation"]["status"]
        assert status in ("suspended", "valid"), status
    with database.session() as session:
        decided = session.scalar(
            select(func.count()).where(AuditEntry.action.like("accreditation.%"))
        )
        assert decided == 4
