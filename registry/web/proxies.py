"""Believe ``X-Forwarded-For`` only from the reverse proxies named in ``ACCREDIT_TRUSTED_PROXIES``.

The rate limits count per client address. Behind a proxy every request comes
from the proxy, so its ``X-Forwarded-For`` must name the client; but a client
talking to the app directly could send any ``X-Forwarded-For`` and get a fresh
counter with each request. So Werkzeug's ``ProxyFix`` is applied only when the
TCP peer (``REMOTE_ADDR``) is a trusted proxy: it then takes the last address
that proxy appended (one hop), and the scheme it reports.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ..settings import IpNetwork
from . import current

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class TrustedProxies:
    """WSGI middleware: ``ProxyFix`` for requests whose peer is trusted, nothing for others."""

    def __init__(self, inner: WsgiApp, trusted: tuple[IpNetwork, ...]) -> None:
        self.inner = inner
        self.fixed = ProxyFix(inner, x_for=1, x_proto=1)  # type: ignore[arg-type]
        self.trusted = trusted

    def is_trusted(self, peer: str | None) -> bool:
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.is_trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)  # type: ignore[arg-type]
        return self.inner(environ, start_response)


def init_app(app: Flask) -> None:
    """Wrap the whole stack (outermost), so that every layer sees the client's address."""
    trusted = current.settings(app).trusted_proxies
    if trusted:
        app.wsgi_app = TrustedProxies(app.wsgi_app, trusted)  # type: ignore[method-assign]
