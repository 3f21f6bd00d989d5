"""Rate limits: generous per client address, on search, the API and uploads.

Answers beyond the limit are 429 with ``Retry-After`` (see ``problems``). The
QR landing page and certificate pages are not limited: they are cached, and a
buyer scanning codes on a trade-fair stand must never be refused.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from . import current

limiter = Limiter(get_remote_address, headers_enabled=True, default_limits=[])


def _general() -> str:
    return current.settings().rate_limit


def _upload() -> str:
    return current.settings().upload_rate_limit


def _tsa() -> str:
    return current.settings().tsa_rate_limit


#: A limit by name: what each limited view is counted against.
KINDS = {"general": _general, "upload": _upload, "tsa": _tsa}


#: Endpoints with a limit; every other request skips the limiter at once.
LIMITED: set[str] = set()


@limiter.request_filter
def _unlimited() -> bool:
    endpoint = request.endpoint or ""
    return endpoint not in LIMITED and not endpoint.startswith("api.")


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
    # Registered first so that it runs last, after the limiter has added its headers.
    app.after_request(_retry_after_only_when_limited)
    limiter.init_app(app)


def limit_blueprint(blueprint: Blueprint) -> None:
    limiter.limit(_general)(blueprint)


def limit_view(app: Flask, endpoint: str, upload: bool = False, kind: str = "general") -> None:
    LIMITED.add(endpoint)
    view = app.view_functions[endpoint]
    limit = KINDS["upload" if upload else kind]
    app.view_functions[endpoint] = limiter.limit(limit)(view)
