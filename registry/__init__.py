"""accredit: the public register of accredited bodies and their certificates."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from . import config as settings
from . import db, i18n

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from ``ACCREDIT_*`` variables, overridden by ``config``."""
    values = settings.from_environ(overrides=config)
    app = Flask(__name__, template_folder=str(TEMPLATES), instance_path=values["INSTANCE"])
    app.config.update(values)
    app.config["SECRET_KEY"] = values.get("SECRET_KEY") or secrets.token_hex(32)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    db.init_app(app)
    i18n.init_app(app)

    from . import pki_routes, public

    app.register_blueprint(public.bp)
    app.register_blueprint(pki_routes.bp)
    return app
