"""Verification in worker processes: deadlines, memory caps, recycling and slots, for real."""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime

import pytest

from registry.verification.pool import Busy, Pool, slot
from registry.web import current
from verifier.policy import Limits

from ...documents import demo_instance, issue_certificates
from .slow import slow_pdf


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = demo_instance(tmp_path_factory.mktemp("pool") / "instance", 20)
    app.config["issued"] = issue_certificates(app, 1)[0]
    return app


@pytest.fixture(scope="module")
def slow(tmp_path_factory) -> bytes:
    return slow_pdf(tmp_path_factory.mktemp("slow"))


def settings_of(app, **changes):
    return current.settings(app).with_changes(**changes)


def test_a_genuine_file_is_verified_in_a_worker_process(app):
    pool = Pool(settings_of(app))
    try:
        issued = app.config["issued"]
        (report,) = pool.verify_all([("a.pdf", issued.pdf)], datetime.now(UTC), Limits())
        assert report.verdict.value == "valid", report.summary()
        assert report.check("public_log").passed
        assert pool.idle and pool.idle[0].process.pid != os.getpid()
    finally:
        pool.close()


def test_a_slow_file_is_cut_off_and_the_request_stays_within_its_budget(app, slow):
    pool = Pool(settings_of(app, verify_file_seconds=1, verify_request_seconds=3))
    issued = app.config["issued"]
    files = [(f"slow-{i}.pdf", slow) for i in range(20)] + [("genuine.pdf", issued.pdf)]
    try:
        started = time.monotonic()
        reports = pool.verify_all(files, datetime.now(UTC), Limits(max_bytes=32 << 20))
        spent = time.monotonic() - started
    finally:
        pool.close()
    assert spent < 3 + 1 + 2.5, spent  # the budget, one grace period, and a process start
    assert len(reports) == len(files)
    assert all(any(c.code == "time_budget" for c in r.checks) for r in reports[:-1])
    assert all(r.verdict.value != "valid" for r in reports)
    assert [r.filename for r in reports] == [name for name, _ in files]


def test_a_process_that_runs_out_of_memory_is_replaced(app):
    pool = Pool(settings_of(app, verify_memory_mb=64))
    issued = app.config["issued"]
    try:
        (report,) = pool.verify_all([("a.pdf", issued.pdf)], datetime.now(UTC), Limits())
    finally:
        pool.close()
    # 64 MiB of address space cannot even load the verifier: cut off, never a crash.
    assert any(c.code == "time_budget" for c in report.checks)
    assert report.verdict.value != "valid"


def test_processes_are_recycled_after_their_files(app):
    pool = Pool(settings_of(app, verify_files_per_process=2))
    issued = app.config["issued"]
    now = datetime.now(UTC)
    try:
        pool.verify_all([("1.pdf", issued.pdf), ("2.pdf", issued.pdf)], now, Limits())
        first = pool.idle[0].process.pid
        (again,) = pool.verify_all([("3.pdf", issued.pdf)], now, Limits())
        assert pool.idle[0].process.pid != first
        assert again.verdict.value == "valid"
    finally:
        pool.close()


def test_slots_are_shared_and_the_next_request_is_refused(app):
    settings = settings_of(app, verify_slots_value=1)
    with slot(settings), pytest.raises(Busy), slot(settings):
        pass
    with slot(settings):  # released
        pass


def test_a_busy_verifier_answers_503_with_retry_after(app):
    settings = settings_of(app, verify_slots_value=1)
    client = app.test_client()
    with slot(settings):
        response = client.post(
            "/api/v1/verify",
            data={"file": [(io.BytesIO(b"%PDF-1.7"), "a.pdf")]},
            content_type="multipart/form-data",
        )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json["error"]["code"] == "verifier_busy"
