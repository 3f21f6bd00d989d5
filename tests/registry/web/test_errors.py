"""Every answer carries the security headers, errors included, and no error shows a trace."""

from __future__ import annotations

import pytest
from flask import Flask

from registry.web.guard import Guard
from registry.web.security import CONTENT_SECURITY_POLICY, STRICT_TRANSPORT_SECURITY

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}


def assert_locked_down(response, https: bool = False) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, name
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    if https:
        assert response.headers["Strict-Transport-Security"] == STRICT_TRANSPORT_SECURITY
    else:
        assert "Strict-Transport-Security" not in response.headers


def assert_problem(response, status: int, wants_json: bool) -> None:
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "RuntimeError" not in text and "secret" not in text
    if wants_json:
        assert response.mimetype == "application/json"
        assert set(response.json["error"]) == {"code", "title", "detail"}
    else:
        assert response.mimetype == "text/html"
        assert "<html" in text


def failing_app(make_app, propagate: bool, **config) -> Flask:
    """The real app with one more view, which fails as a bug would."""
    app = make_app(**config)
    app.config["PROPAGATE_EXCEPTIONS"] = propagate

    def broken() -> str:
        raise RuntimeError("a secret detail from deep inside")

    app.add_url_rule("/broken", "broken", broken)
    return app


# propagate=False is production (Flask's 500 handler answers); True is testing
# and debug, where the exception leaves Flask and the outer guard answers.
@pytest.mark.parametrize("propagate", [False, True])
@pytest.mark.parametrize("headers", [HTML, JSON], ids=["html", "json"])
def test_an_unhandled_exception_gives_the_error_page_with_headers(make_app, propagate, headers):
    app = failing_app(make_app, propagate)
    response = app.test_client().get("/broken", headers=headers)
    assert_problem(response, 500, headers is JSON)
    assert_locked_down(response)
    if headers is JSON:
        assert response.json["error"]["code"] == "server_error"


@pytest.mark.parametrize("headers", [HTML, JSON], ids=["html", "json"])
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/page", 404),
        ("POST", "/search", 405),
        ("POST", "/api/v1/verify", 413),
        ("GET", "/c/" + "x" * 17000, 414),
        ("GET", "/search?q=" + "y" * 17000, 414),
    ],
)
def test_http_errors_carry_the_headers(client, headers, method, path, status):
    body = b"x" * (21 * 1024 * 1024) if status == 413 else None
    response = client.open(path, method=method, data=body, headers=headers)
    assert_problem(response, status, headers is JSON or path.startswith("/api/"))
    assert_locked_down(response)


def test_hsts_only_when_the_public_url_is_https(make_app):
    secure = make_app(PUBLIC_URL="https://register.example.go.th")
    for path in ("/", "/no/such/page", "/c/" + "x" * 17000):
        assert_locked_down(secure.test_client().get(path), https=True)
    broken = failing_app(make_app, True, PUBLIC_URL="https://register.example.go.th")
    assert_locked_down(broken.test_client().get("/broken"), https=True)
    assert_locked_down(make_app().test_client().get("/"), https=False)


def test_pages_from_the_page_cache_carry_the_headers(client):
    first = client.get("/cab/999999")
    again = client.get("/cab/999999")
    assert first.status_code == again.status_code == 404
    assert_locked_down(again)


def test_the_guard_answers_when_everything_inside_it_fails(make_app):
    app = make_app()

    def inner(environ, start_response):
        raise RuntimeError("a secret detail from before Flask")

    guarded = Guard(app, inner)
    app.wsgi_app = guarded  # type: ignore[method-assign]
    for headers in (HTML, JSON):
        response = app.test_client().get("/V/anything", headers=headers)
        assert_problem(response, 500, headers is JSON)
        assert_locked_down(response)
