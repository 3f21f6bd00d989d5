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


#: Endpoints with a limit; every other request skips the limiter at once.
LIMITED: set[str] = set()


@limiter.request_filter
def _unlimited() -> bool:
    endpoint = request.endpoint or ""
    return endpoint not in LIMITED and not endpoint.startswith("api.")


def _retry_after_only_when_limited(response: Response) -> Response:
    """Flask-Limiter sends ``Retry-After`` on every answer; it means "wait" only on a 429."""
    if response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", current.settings(app).rate_limit_storage)
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    # Registered first so that it runs last, after the limiter has added its headers.
    app.after_request(_retry_after_only_when_limited)
    limiter.init_app(app)


def limit_blueprint(blueprint: Blueprint) -> None:
    limiter.limit(_general)(blueprint)


def limit_view(app: Flask, endpoint: str, upload: bool = False) -> None:
    LIMITED.add(endpoint)
    view = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter.limit(_upload if upload else _general)(view)
