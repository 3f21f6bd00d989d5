"""Rate limits per group and per client address; ``X-Forwarded-For`` only from trusted proxies.

The real-server proof across workers, with Redis, is ``tests/e2e/test_shared_limits.py``.
"""

from __future__ import annotations

import io
import secrets

import pytest

from registry.settings import SettingsError, from_environ
from registry.web.proxies import TrustedProxies

from ...documents import demo_instance

PROXY = "10.9.0.1"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return demo_instance(
        tmp_path_factory.mktemp("limits"),
        3,
        RATE_LIMIT="3 per minute",
        UPLOAD_RATE_LIMIT="2 per minute",
        TRUSTED_PROXIES=f"{PROXY}, 192.0.2.0/24",
    )


def address() -> str:
    """A client address no other test has used: the module's counts are shared."""
    return f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def test_search_group_is_one_counter_across_its_endpoints(app):
    client = app.test_client()
    peer = {"REMOTE_ADDR": address()}
    codes = [
        client.get(path, environ_base=peer).status_code
        for path in ("/search?q=lab", "/api/v1/search?q=lab", "/api/v1/openapi.json", "/search")
    ]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    refused = client.get("/api/v1/search?q=lab", environ_base=peer)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert client.get("/healthz", environ_base=peer).status_code == 200  # no group: unlimited
    other = {"REMOTE_ADDR": address()}
    assert client.get("/search?q=lab", environ_base=other).status_code == 200  # per address


def test_upload_group_is_shared_by_the_page_and_the_api(app):
    client = app.test_client()
    peer = {"REMOTE_ADDR": address()}

    def post(path: str) -> int:
        data = {"file": [(io.BytesIO(b""), "")]}
        return client.post(
            path, data=data, content_type="multipart/form-data", environ_base=peer
        ).status_code

    codes = [post("/verify"), post("/api/v1/verify"), post("/verify")]
    assert codes[0] != 429 and codes[1] != 429 and codes[2] == 429
    # The search group is a counter of its own.
    assert client.get("/api/v1/search?q=lab", environ_base=peer).status_code == 200


def test_forwarded_for_from_an_untrusted_peer_is_ignored(app):
    client = app.test_client()
    peer = address()
    codes = [
        client.get(
            "/api/v1/search?q=lab",
            environ_base={"REMOTE_ADDR": peer},
            headers={"X-Forwarded-For": address()},  # a new "client" each time: no new counter
        ).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


@pytest.mark.parametrize("proxy", [PROXY, "192.0.2.77"])
def test_forwarded_for_from_a_trusted_proxy_names_the_client(app, proxy):
    client = app.test_client()
    first, second = address(), address()

    def get(client_address: str) -> int:
        return client.get(
            "/api/v1/search?q=lab",
            environ_base={"REMOTE_ADDR": proxy},
            # The proxy appends the address it saw; anything before it is the client's say.
            headers={"X-Forwarded-For": f"6.6.6.6, {client_address}"},
        ).status_code

    assert [get(first) for _ in range(4)] == [200, 200, 200, 429]
    assert get(second) == 200  # another client behind the same proxy has its own count


def test_trusted_proxies_is_checked_against_the_peer_only():
    proxies = TrustedProxies(
        lambda environ, start: [],
        from_environ({"ACCREDIT_TRUSTED_PROXIES": "127.0.0.1,::1,10.0.0.0/8"}).trusted_proxies,
    )
    assert proxies.is_trusted("10.1.2.3") and proxies.is_trusted("::1")
    assert not proxies.is_trusted("11.0.0.1") and not proxies.is_trusted("")
    assert not proxies.is_trusted("not an address") and not proxies.is_trusted(None)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.example", "addresses or CIDRs"),
        ("RATE_LIMIT_STORAGE", "memcached://127.0.0.1", "redis://host:port/db"),
    ],
)
def test_bad_settings_are_refused_with_what_would_work(name, value, message):
    with pytest.raises(SettingsError, match=message):
        from_environ({f"ACCREDIT_{name}": value})


def test_an_unreachable_redis_never_turns_search_into_an_error(tmp_path):
    """The limits fall back to counting in each worker's memory; the search still answers."""
    app = demo_instance(
        tmp_path / "no-redis",
        2,
        RATE_LIMIT="3 per minute",
        RATE_LIMIT_STORAGE="redis://127.0.0.1:9/0",
    )
    client = app.test_client()
    peer = {"REMOTE_ADDR": address()}
    answers = [client.get("/api/v1/search?q=lab", environ_base=peer).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
