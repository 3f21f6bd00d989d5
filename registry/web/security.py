"""Security headers on every response: no inline script or style, no framing, no sniffing.

Flask adds them after each view (``after_request``); ``guard.Guard`` adds any
that are missing to what leaves the process by another way (pages from the
page cache, 304s, the answers it makes itself when something failed), so an
error page is as locked down as any other.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response

from . import current

#: No inline script or style anywhere; every asset is served from this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
#: Two years, subdomains included: sent only when the public URL is https, since
#: a browser that saw it over plain http would then refuse the site for years.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"

BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


def header_values(https: bool) -> tuple[tuple[str, str], ...]:
    """Every security header for a site served over ``https`` or not."""
    if https:
        return (*BASE_HEADERS, ("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY))
    return BASE_HEADERS


def completed(headers: Iterable[tuple[str, str]], https: bool) -> list[tuple[str, str]]:
    """``headers`` with every security header it lacks (its own values are kept)."""
    found = list(headers)
    present = {name.lower() for name, _ in found}
    return found + [(k, v) for k, v in header_values(https) if k.lower() not in present]


def security_headers(response: Response) -> Response:
    for name, value in header_values(current.settings().https):
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(security_headers)
