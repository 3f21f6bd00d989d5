"""The app factory: settings, database, extensions and blueprints, wired in one place."""

from __future__ import annotations

import gc
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

from flask import Flask, Response, request

from keys.signing import quiet_fetching_notice
from verifier import speedups
from verifier.cli import quiet_library_logs

from . import readiness, schema  # noqa: F401  (schema: every model, so that mappers resolve)
from . import settings as settings_module
from .api import docs as api_docs
from .api import views as api
from .db import Database
from .office import admin as office_admin
from .office import auth as office_auth
from .office import bodies as office_bodies
from .office import cases as office_cases
from .opendata import views as opendata
from .pages import about as about_pages
from .pages import log as log_pages
from .pages import views as pages
from .pki import material
from .pki import routes as pki
from .search.bitmaps import snapshots
from .settings import Settings
from .verification import views as verification
from .web import (
    caching,
    cors,
    current,
    guard,
    i18n,
    limits,
    parameters,
    problems,
    proxies,
    security,
)
from .web.uploads import InMemoryRequest

#: ``templates/`` at the top of the checkout, carried inside the package (a link).
TEMPLATES = files("registry") / "templates"


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    database: Database | None = None,
) -> Flask:
    """Build the app from ``ACCREDIT_*`` variables, overridden by ``config``.

    ``settings`` and ``database`` are for callers that have them already: the
    CLI, and tests whose database work is rolled back (``Database.bound_to``).
    """
    found = settings or settings_module.from_environ(overrides=config)
    speedups.enable(found.speedups)
    # Uploads are hostile: pyHanko logs every oddity it meets, and the report says it all.
    quiet_library_logs()
    quiet_fetching_notice()
    app = Flask(__name__, template_folder=str(TEMPLATES), instance_path=str(found.instance))
    app.config["SECRET_KEY"] = found.secret_key()  # None until the instance exists
    app.config["MAX_CONTENT_LENGTH"] = found.max_upload_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = found.max_upload_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.request_class = InMemoryRequest

    if database is None:
        database = Database.from_url(
            found.database_url,
            timeout=found.database_timeout or None,
            replica_url=found.database_replica_url,
        )
    current.init_app(app, found, database)
    i18n.init_app(app)
    limits.init_app(app)
    parameters.init_app(app)
    problems.init_app(app)
    security.init_app(app)
    cors.init_app(app)
    office_auth.init_app(app)

    app.register_blueprint(pages.bp)
    app.register_blueprint(about_pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_docs.bp)
    app.register_blueprint(opendata.bp)
    app.register_blueprint(verification.bp)
    app.register_blueprint(pki.bp)
    app.register_blueprint(log_pages.bp)
    for blueprint in (office_admin.bp, office_cases.bp, office_bodies.bp):
        app.register_blueprint(blueprint)
    # Public POSTs need no session, so no CSRF token: anyone may verify a PDF or
    # ask for OCSP and a timestamp; every staff form carries one.
    office_auth.csrf.exempt(verification.bp)
    office_auth.csrf.exempt(pki.bp)
    limits.limit_groups(app)
    app.after_request(_publish_after_staff_writes)
    caching.init_app(app)
    guard.init_app(app)
    proxies.init_app(app)
    return app


def serve() -> Flask:
    """The app as gunicorn serves it (``registry.app:serve()``): production must be ready.

    A refusal is a few plain lines and exit status 2, not a traceback in a
    worker's boot log: ``accredit run`` checks the same before starting gunicorn.
    """
    found = settings_module.from_environ()
    try:
        readiness.require_ready(found)
    except readiness.NotReady as exc:
        print(f"accredit: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    app = create_app(settings=found)
    warm(app)
    return app


def warm(app: Flask) -> None:
    """Load the search index before the first request, then keep the collector off it.

    A worker's long-lived objects (the app, its templates and catalogues, the
    search index and the Thai word list) are made once and never freed. Left
    to the cyclic garbage collector, they were walked again in every full
    collection: 640,000 objects at 500-650 ms each, a few times a minute under
    load, and every request queued on that worker waited (the soak's QR p99 was
    515 ms). ``gc.freeze`` moves them out of its sight; what is made later is
    still collected. A database that cannot be reached at boot (or any other
    failure of the load) only postpones the index to the first search.
    """
    with app.app_context():
        database = current.database(app).public()
        try:
            with database.session() as session, snapshots.lock:
                snapshots.current(session, datetime.now(UTC))
        except problems.UNAVAILABLE as exc:
            print(
                f"accredit: the search index waits for the database ({exc.__class__.__name__})",
                file=sys.stderr,
            )
        except Exception as exc:  # the worker still serves; the first search tries again
            print(
                f"accredit: the search index was not loaded at boot ({exc.__class__.__name__})",
                file=sys.stderr,
            )
    gc.collect()
    gc.freeze()


OFFICE = frozenset({"office", "cases", "bodies"})


def _publish_after_staff_writes(response: Response) -> Response:
    """A staff action that may have appended to the log: sign it now that it committed."""
    if request.method == "POST" and request.blueprint in OFFICE and response.status_code < 400:
        material.publish_log(current.settings(), current.database())
    return response
