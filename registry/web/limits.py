"""Rate limits: per client address, counted per group of endpoints.

A group is one counter per address, whatever endpoint of the group is asked:
otherwise a client could spend the search figure once on ``/search`` and again
on each API route. The groups (documented in the README):

- ``search``: ``/`` and ``/search``, and every ``/api/v1/`` read
  (``ACCREDIT_RATE_LIMIT``);
- ``upload``: ``POST /verify`` and ``POST /api/v1/verify``
  (``ACCREDIT_UPLOAD_RATE_LIMIT``);
- ``tsa``: ``POST /pki/tsa`` (``ACCREDIT_TSA_RATE_LIMIT``).

The counts live in ``ACCREDIT_RATE_LIMIT_STORAGE``: memory (one count per
worker process) by default, Redis to share them between workers and servers.
The client address is the TCP peer, or the ``X-Forwarded-For`` of a peer in
``ACCREDIT_TRUSTED_PROXIES`` (``proxies``). Answers beyond the limit are 429
with ``Retry-After`` (see ``problems``). The QR landing page and certificate
pages are not limited: they are cached, and a buyer scanning codes on a
trade-fair stand must never be refused.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from . import current

limiter = Limiter(get_remote_address, headers_enabled=True, default_limits=[])


def _search() -> str:
    return current.settings().rate_limit


def _upload() -> str:
    return current.settings().upload_rate_limit


def _tsa() -> str:
    return current.settings().tsa_rate_limit


#: Group name -> (its limit, its endpoints; a name ending in "." means the whole blueprint).
GROUPS: dict[str, tuple[Callable[[], str], tuple[str, ...]]] = {
    "search": (_search, ("public.index", "api.")),
    "upload": (_upload, ("verify.page_upload", "verify.api_upload")),
    "tsa": (_tsa, ("pki.tsa",)),
}

#: Endpoints with a limit; every other request skips the limiter at once.
LIMITED: set[str] = set()


@limiter.request_filter
def _unlimited() -> bool:
    return (request.endpoint or "") not in LIMITED


#: Where Flask-Limiter writes its own retry header (removed before the answer leaves).
LIMITER_RETRY_AFTER = "X-Accredit-Limiter-Retry-After"


def _retry_after_only_when_limited(response: Response) -> Response:
    """Flask-Limiter sends its retry header on every answer; it means "wait" only on a 429.

    It writes it under ``LIMITER_RETRY_AFTER``, so that it never overwrites the
    ``Retry-After`` of an answer that set its own (a 429 in ``problems``, a
    busy verifier's 503).
    """
    response.headers.pop(LIMITER_RETRY_AFTER, None)
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", current.settings(app).rate_limit_storage)
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["RATELIMIT_HEADER_RETRY_AFTER"] = LIMITER_RETRY_AFTER
    # A Redis outage must not turn search into a 500: each worker counts in
    # memory until the store answers again (Flask-Limiter checks it periodically).
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    # Registered first so that it runs last, after the limiter has added its headers.
    app.after_request(_retry_after_only_when_limited)
    limiter.init_app(app)


def limit_groups(app: Flask) -> None:
    """Put every endpoint of ``GROUPS`` under its group's one shared counter.

    Called once the blueprints are registered, so that ``api.`` finds every API view.
    """
    for scope, (limit, names) in GROUPS.items():
        shared = limiter.shared_limit(limit, scope=scope)
        for endpoint in list(app.view_functions):
            if endpoint in names or any(n.endswith(".") and endpoint.startswith(n) for n in names):
                LIMITED.add(endpoint)
                app.view_functions[endpoint] = shared(app.view_functions[endpoint])
