"""PostgreSQL frozen (SIGSTOP) under a real gunicorn: answers within 2 s, then recovery.

The machine's shared PostgreSQL is never stopped: the test freezes a private
cluster of its own (``tests.pgcluster``), the postmaster and every backend,
so the app's connections stay open at the TCP level but nothing answers:
unlike a stopped server, no "connection refused" comes back, and
``statement_timeout`` (the server's clock) never fires. Every public route
must still answer within about the 2 s budget: 503 in its shape with the
security headers and ``Retry-After``, or a record or QR page's last copy
(marked stale), and verification runs with status "unknown". After SIGCONT
the same server answers from the register again, without a restart.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import pytest

from ..documents import demo_instance, issue_certificates
from ..pgcluster import Cluster, ClusterUnavailable, private_primary, unavailable
from ..registry.web.test_errors import HEADERS
from .harness import free_port, served

#: The request budget (ACCREDIT_DATABASE_TIMEOUT), and what an answer may take beyond it.
BUDGET = 2.0
SLACK = 0.6


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    started = time.monotonic()
    request = Request(url, data=data, headers=headers or {})
    try:
        with urlopen(request, timeout=30) as response:
            status, found, body = response.status, response.headers, response.read()
    except HTTPError as error:
        status, found, body = error.code, error.headers, error.read()
    return Answer(status, dict(found.items()), body, time.monotonic() - started)


def multipart(pdf: bytes) -> tuple[bytes, dict[str, str]]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="genuine.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + pdf
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Accept": "application/json",
    }


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    try:
        with private_primary() as primary:
            yield primary
    except ClusterUnavailable as exc:
        unavailable(str(exc))


def test_a_frozen_database_gets_answers_within_the_budget_then_recovers(tmp_path, cluster):
    cluster.execute("CREATE DATABASE accredit")
    folder = tmp_path / "instance"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = cluster.url("accredit")
    app = demo_instance(folder, 6, PUBLIC_URL=base, DATABASE_URL=url)
    (issued,) = issue_certificates(app, 1)
    number = issued.certificate.number
    accreditation = number.split("/")[0]
    qr = urlsplit(issued.certificate.qr_url).path
    settings = {"ACCREDIT_PUBLIC_URL": base, "ACCREDIT_DATABASE_URL": url}
    json = {"Accept": "application/json"}
    pages = [f"/c/{number}", qr, f"/a/{accreditation}"]  # stale-if-error pages
    others = [
        "/",
        "/search?q=rice",
        f"/cab/{issued.certificate.accreditation.cab_id}",
        "/api/v1/search?q=rice",
        f"/api/v1/accreditations/{accreditation}",
        "/exports/registry.csv",
        "/exports/registry.json",
        "/feeds/status.atom",
        "/healthz",
    ]
    body, upload = multipart(issued.pdf)
    with served(folder, port, settings, workers=2):
        assert fetch(base + "/api/v1/verify", body, upload).status == 200  # a warm verifier
        for path in pages * 4:  # each of the two workers keeps a copy (most likely)
            for headers in ({}, json):
                assert fetch(base + path, headers=headers).status == 200, path
        cluster.freeze()
        try:
            seen: dict[str, int] = {}
            slowest = 0.0
            for path in pages + others:
                for headers in ({}, json):
                    answer = fetch(base + path, headers=headers)
                    seen[f"{path[:40]} {'json' if headers else 'html'}"] = answer.status
                    slowest = max(slowest, answer.seconds)
                    assert answer.seconds < BUDGET + SLACK, (path, answer.seconds)
                    for name, value in HEADERS.items():
                        assert answer.headers.get(name) == value, (path, name)
                    assert b"Traceback" not in answer.body
                    if answer.status == 200 and path in pages:
                        assert answer.headers["Warning"].startswith("110"), path
                        assert answer.headers["Cache-Control"] == "no-store"
                        continue
                    assert answer.status == 503, (path, answer.status)
                    assert int(answer.headers["Retry-After"]) > 0
                    wants = "application/json" if headers or "/api/" in path else "text/html"
                    if path != "/healthz":
                        assert answer.headers["Content-Type"].startswith(wants), path
            verified = fetch(base + "/api/v1/verify", body, upload)
            assert verified.seconds < 20  # ACCREDIT_VERIFY_REQUEST_SECONDS
            assert verified.status == 200, verified.body[:300]
            assert b'"status":"unknown"' in verified.body.replace(b" ", b"")
            print(f"while frozen: slowest {slowest:.2f} s, verify {verified.seconds:.2f} s;", seen)
        finally:
            cluster.resume()
        # Recovery without a restart: fresh answers again within a few seconds.
        deadline = time.monotonic() + 15
        while fetch(base + "/healthz").status != 200:
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.2)
        for path in pages + others:
            answer = fetch(base + path)
            if answer.status != 200 or "Warning" in answer.headers:  # the other worker's hold
                time.sleep(5)
                answer = fetch(base + path)
            assert answer.status == 200 and "Warning" not in answer.headers, path
