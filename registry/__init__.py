"""accredit: the public register of accredited bodies and their certificates."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response

from . import config as settings
from . import db, i18n

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

#: No inline script or style anywhere; every asset is served from this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    return response


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from ``ACCREDIT_*`` variables, overridden by ``config``."""
    from . import api, caching, errors, limits, opendata, pki_routes, public, verify_web

    values = settings.from_environ(overrides=config)
    app = Flask(__name__, template_folder=str(TEMPLATES), instance_path=values["INSTANCE"])
    app.config.update(values)
    app.config["SECRET_KEY"] = values.get("SECRET_KEY") or secrets.token_hex(32)
    app.config["MAX_CONTENT_LENGTH"] = values["MAX_UPLOAD_BYTES"]
    app.config["MAX_FORM_MEMORY_SIZE"] = values["MAX_UPLOAD_BYTES"]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.request_class = verify_web.InMemoryRequest

    db.init_app(app)
    i18n.init_app(app)
    limits.init_app(app)
    errors.init_app(app)

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(opendata.bp)
    app.register_blueprint(verify_web.bp)
    app.register_blueprint(pki_routes.bp)
    limits.limit_blueprint(api.bp)
    limits.limit_view(app, "public.index")
    limits.limit_view(app, "verify.page_upload", upload=True)
    limits.limit_view(app, "verify.api_upload", upload=True)
    app.after_request(security_headers)
    caching.init_app(app)
    return app
