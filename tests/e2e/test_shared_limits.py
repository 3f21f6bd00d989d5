"""The documented rate limit holds across gunicorn workers and grouped endpoints, with Redis.

A real ``accredit run --workers 2`` counts in the Redis on this machine; the
test sends its requests from several threads at once, so both workers answer
(a sync worker takes one request at a time), and spreads them over the three
endpoints of the ``search`` group. Exactly the documented figure gets through;
the next answers are 429 with ``Retry-After``. The server trusts loopback as
its proxy, and each run names a fresh client in ``X-Forwarded-For``, so runs
never share counts and nothing in Redis has to be flushed.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
import redis

from ..documents import demo_instance, issue_certificates
from .harness import free_port, served

REDIS = "redis://127.0.0.1:6379/3"
LIMIT = 20


@pytest.fixture(scope="module")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS} is unreachable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so this is a failure, not a skip)", pytrace=False)
        pytest.skip(message)
    return REDIS


@pytest.fixture(scope="module")
def server(tmp_path_factory, redis_url) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("shared-limits") / "instance"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = demo_instance(folder, 10, PUBLIC_URL=base)
    (issued,) = issue_certificates(app, 1)
    settings = {
        "ACCREDIT_PUBLIC_URL": base,
        "ACCREDIT_RATE_LIMIT": f"{LIMIT} per minute",
        "ACCREDIT_UPLOAD_RATE_LIMIT": "5 per minute",
        "ACCREDIT_RATE_LIMIT_STORAGE": redis_url,
        "ACCREDIT_TRUSTED_PROXIES": "127.0.0.1",
    }
    with served(folder, port, settings):
        yield base, issued.certificate.number.split("/")[0]


def client_address() -> str:
    return f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def get(url: str, client: str, data: bytes | None = None, headers: dict | None = None):
    request = Request(
        url,
        data=data,
        headers={"X-Forwarded-For": client, "Accept": "application/json", **(headers or {})},
    )
    try:
        with urlopen(request, timeout=20) as response:
            return response.status, response.headers
    except HTTPError as exc:
        exc.read()
        return exc.code, exc.headers


def test_search_group_allows_the_documented_figure_across_two_workers(server):
    base, accreditation = server
    client = client_address()
    paths = ["/search?q=lab", "/api/v1/search?q=lab", f"/api/v1/accreditations/{accreditation}"]
    urls = [base + paths[i % 3] for i in range(LIMIT + 10)]
    started = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda url: get(url, client), urls))
    elapsed = time.monotonic() - started
    codes = [status for status, _ in answers]
    assert codes.count(200) == LIMIT, codes
    assert codes.count(429) == 10, codes
    assert all(int(h["Retry-After"]) >= 1 for s, h in answers if s == 429)
    assert all("Retry-After" not in h for s, h in answers if s == 200)
    # Every endpoint of the group got some of the allowance and some of the refusals.
    for path in paths:
        mine = [answers[i][0] for i in range(len(urls)) if urls[i].endswith(path)]
        assert set(mine) <= {200, 429}
    # One more, sequentially, on each endpoint: still refused, whichever worker answers.
    for path in paths:
        status, headers = get(base + path, client)
        assert status == 429 and int(headers["Retry-After"]) >= 1
    # The counts are in Redis, under the forwarded client's address, not the proxy's.
    keys = redis.Redis.from_url(REDIS).keys(f"*{client}*")
    assert keys, "no count in Redis for the forwarded client"
    # Another client behind the same proxy has its own allowance.
    assert get(base + paths[1], client_address())[0] == 200
    assert elapsed < 20


def test_upload_group_is_shared_by_the_page_and_the_api(server):
    base, _ = server
    client = client_address()
    boundary = secrets.token_hex(8)
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="nothing"\r\n\r\nx\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    codes = [
        get(base + path, client, data=body, headers=headers)[0]
        for path in ["/verify", "/api/v1/verify"] * 3
    ]
    assert 429 not in codes[:5] and codes[5] == 429, codes
