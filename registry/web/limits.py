"""Rate limits: generous per client address, on search, the API and uploads.

Answers beyond the limit are 429 with ``Retry-After`` (see ``problems``). The
QR landing page and certificate pages are not limited: they are cached, and a
buyer scanning codes on a trade-fair stand must never be refused.
"""

from __future__ import annotations

from flask import Blueprint, Flask, request
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


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", current.settings(app).rate_limit_storage)
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)


def limit_blueprint(blueprint: Blueprint) -> None:
    limiter.limit(_general)(blueprint)


def limit_view(app: Flask, endpoint: str, upload: bool = False, kind: str = "general") -> None:
    LIMITED.add(endpoint)
    view = app.view_functions[endpoint]
    limit = KINDS["upload" if upload else kind]
    app.view_functions[endpoint] = limiter.limit(limit)(view)
