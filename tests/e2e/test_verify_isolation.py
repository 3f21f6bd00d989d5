"""Two clients upload slow files to a real server; the public pages keep answering.

Each client sends 20 slow-to-read PDFs to ``POST /api/v1/verify`` at once
while the test polls a record page. Uploads are verified in worker processes
with a per-file deadline and a request budget, and only one request verifies
at a time (``accredit run --workers 2`` keeps one worker for the pages): the
other upload is told to come back (503 with ``Retry-After``), never a 500.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from ..documents import demo_instance, issue_certificates
from ..registry.verification.slow import slow_pdf
from .harness import free_port, served


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, data in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def upload(base: str, body: bytes, boundary: str) -> tuple[int, dict, float]:
    request = Request(
        f"{base}/api/v1/verify",
        data=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Accept": "application/json",
        },
    )
    started = time.monotonic()
    try:
        with urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), time.monotonic() - started
    except HTTPError as exc:
        return (
            exc.code,
            json.loads(exc.read() or b"{}") | {"retry": exc.headers.get("Retry-After")},
            time.monotonic() - started,
        )


def test_slow_uploads_never_starve_the_record_pages(tmp_path):
    folder = tmp_path / "instance"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = demo_instance(folder, 20, PUBLIC_URL=base)
    (issued,) = issue_certificates(app, 1)
    accreditation = issued.certificate.number.split("/")[0]
    slow = slow_pdf(tmp_path)
    body, boundary = multipart([(f"slow-{i}.pdf", slow) for i in range(20)])
    settings = {
        "ACCREDIT_PUBLIC_URL": base,
        "ACCREDIT_MAX_UPLOAD_BYTES": str(64 << 20),
        "ACCREDIT_UPLOAD_RATE_LIMIT": "100 per minute",
    }
    with served(folder, port, settings):
        page = f"{base}/a/{accreditation}"
        with urlopen(page, timeout=10) as warm:
            assert warm.status == 200
        answers: list[tuple[int, dict, float]] = []
        clients = [
            threading.Thread(target=lambda: answers.append(upload(base, body, boundary)))
            for _ in range(2)
        ]
        for client in clients:
            client.start()
        time.sleep(0.5)
        polls = []
        for _ in range(10):
            started = time.monotonic()
            try:
                with urlopen(page, timeout=10) as response:
                    ok = response.status == 200
            except OSError:
                ok = False
            polls.append((ok, time.monotonic() - started))
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        for client in clients:
            client.join(90)
    fast = [seconds for ok, seconds in polls if ok and seconds < 3.0]
    print(f"record page polls (s): {[round(s, 2) for _, s in polls]}")
    print(f"uploads: {[(status, round(seconds, 1)) for status, _, seconds in answers]}")
    assert len(fast) >= 9, polls
    assert len(answers) == 2
    assert all(status in (200, 503) for status, _, _ in answers), answers
    assert any(status == 200 for status, _, _ in answers)
    for status, answer, seconds in answers:
        assert seconds < 30, "below gunicorn's worker timeout"
        if status == 200:
            reports = answer["reports"]
            assert len(reports) == 20
            assert all(r["verdict"] != "valid" for r in reports)
            assert any(c["code"] == "time_budget" for r in reports for c in r["checks"]), (
                "files cut off say so"
            )
        else:
            assert answer["error"]["code"] == "verifier_busy" and answer["retry"]
