"""The page cache stays within its byte budget, counting keys and headers, not only bodies.

And an unknown certificate number is answered, but never stored: random
numbers would otherwise fill the cache one 404 at a time.
"""

from __future__ import annotations

import secrets
import tracemalloc
from datetime import UTC, datetime

import pytest

from registry.web.caching import EXTENSION, PageCache, Renders, Stored, entry_size

from ...documents import demo_instance, issue_certificates

HEADERS = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("ETag", '"0123456789abcdef0123456789abcdef"'),
    ("Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT"),
    ("Cache-Control", "public, max-age=60"),
    ("Vary", "Accept, Accept-Language, Cookie"),
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)


def stored(body: bytes) -> Stored:
    """An entry whose strings are its own, as those of a rendered response are."""
    headers = tuple((k.encode().decode(), v.encode().decode()) for k, v in HEADERS)
    return Stored(b"200 OK".decode(), headers, body, secrets.token_hex(16), datetime.now(UTC))


def test_many_small_pages_stay_within_the_budget_in_real_memory():
    budget = 2 * 1024 * 1024
    cache = PageCache(budget)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(40_000):  # small bodies: most of each entry is key and headers
            key = (f"/c/NOPE-{secrets.token_hex(8)}-{i}", "", "en", "v1")
            cache.put(key, stored(b"<p>not found</p>" * 4))
            assert cache.used <= budget
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 0 < len(cache) < 40_000  # the oldest were evicted
    # What it accounts is about what it holds, and what it holds is within the budget.
    assert held <= budget, f"cache holds {held} bytes for a budget of {budget}"
    assert held >= cache.used * 0.7, f"accounts {cache.used} bytes for {held} held"


def test_accounted_size_counts_key_and_headers():
    key = ("/c/Testing-0001/R1", "lang=en", "en", "v1")
    value = stored(b"x" * 10)
    assert entry_size(key, value) > 10 + sum(len(k) + len(v) for k, v in HEADERS) + 30
    cache = PageCache(10_000_000)
    cache.put(key, value)
    cache.put(key, value)  # replaced, not counted twice
    assert cache.used == entry_size(key, value) and len(cache) == 1


def test_a_newer_version_of_a_page_replaces_the_older_one():
    """The register moves on every decision: old versions' copies are dead weight."""
    cache = PageCache(10_000_000)
    other = ("/a/Testing-0002", "", "en", "v1")
    cache.put(other, stored(b"b" * 100))
    for version in range(1, 50):
        key = ("/a/Testing-0001", "", "en", f"v{version}")
        cache.put(key, stored(b"a" * 100))
        assert cache.get(key) is not None
    assert len(cache) == 2
    assert cache.get(("/a/Testing-0001", "", "en", "v48")) is None
    assert cache.newest(("/a/Testing-0001", "", "en")) is cache.get(key)
    assert cache.get(other) is not None  # another page keeps its copy
    assert cache.used == sum(entry_size(k, cache.get(k)) for k in (key, other))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = demo_instance(tmp_path_factory.mktemp("cache"), 5, RATE_LIMIT="1000 per minute")
    (issued,) = issue_certificates(app, 1)
    app.config["number"] = issued.certificate.number
    return app


def test_unknown_certificate_numbers_are_answered_uncached(app):
    client = app.test_client()
    cache = app.extensions[EXTENSION].cache
    path = f"/c/NOPE-{secrets.token_hex(6)}"
    for _ in range(2):
        answer = client.get(path)
        assert answer.status_code == 404
    assert path not in cache
    known = f"/c/{app.config['number']}"
    assert client.get(known).status_code == 200
    assert known in cache


def test_many_unique_paths_through_the_app_stay_within_the_budget(app):
    middleware = app.extensions[EXTENSION]
    saved = middleware.cache
    middleware.cache = PageCache(256 * 1024)
    try:
        client = app.test_client()
        accreditation = app.config["number"].split("/")[0]
        codes = set()
        for i in range(400):
            codes.add(client.get(f"/a/{accreditation}?x={i}").status_code)
            assert middleware.cache.used <= middleware.cache.max_bytes
            client.get(f"/c/NOPE-{i}")
        assert codes == {200}
        assert not any(f"/c/NOPE-{i}" in middleware.cache for i in range(0, 400, 50))
        assert 0 < len(middleware.cache) < 400
    finally:
        middleware.cache = saved


def test_a_page_is_rendered_again_only_when_its_data_differ():
    renders = Renders(size=2)
    made: list[str] = []

    def make(text: str):
        return lambda: made.append(text) or text

    page = ("/search", "q=rice", "en")
    assert renders.render(page, ("rice", 3), make("three")) == "three"
    assert renders.render(page, ("rice", 3), make("again")) == "three"
    assert renders.render(page, ("rice", 4), make("four")) == "four"
    assert made == ["three", "four"]
    for n in range(3):  # bounded: the oldest pages go
        renders.render(("/search", f"q={n}", "en"), n, make(str(n)))
    assert renders.render(page, ("rice", 4), make("four again")) == "four again"
