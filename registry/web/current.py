"""What the current app holds: its settings and database, and the request's session.

With a read replica (``ACCREDIT_DATABASE_REPLICA_URL``) the request's session
is made on the replica for a public read, and on the primary for everything
else: ``public_read`` is the one rule, used here and by the page cache in
front of Flask. Writes never use this session (``database().transaction()``
is always the primary's), and staff read the primary, so they see their own
writes at once.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from ..db import Database
from ..settings import Settings

SETTINGS = "accredit.settings"
DATABASE = "accredit.database"
#: The back office: every request under it reads the primary.
STAFF_PATHS = "/staff"
#: Methods that only read; a POST (a verification, OCSP, a timestamp) reads the primary.
READING = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask, settings: Settings, database: Database) -> None:
    app.extensions[SETTINGS] = settings
    app.extensions[DATABASE] = database
    app.teardown_appcontext(_remove_session)


def settings(app: Flask | None = None) -> Settings:
    return (app or current_app).extensions[SETTINGS]


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions[DATABASE]


def public_read(environ: dict[str, Any], app: Flask | None = None) -> bool:
    """Whether this request is one of the public's reads, which the replica may answer.

    A read (GET or HEAD) outside ``/staff`` from someone without a session
    cookie: staff carry one from the moment they open the login page, so a
    staff member looking at a public page after a decision sees the decision.
    """
    if environ.get("REQUEST_METHOD") not in READING:
        return False
    path = environ.get("PATH_INFO", "")
    if path == STAFF_PATHS or path.startswith(STAFF_PATHS + "/"):
        return False
    cookie_name = (app or current_app).config.get("SESSION_COOKIE_NAME", "session")
    return f"{cookie_name}=" not in environ.get("HTTP_COOKIE", "")


#: The database a request reads, chosen once (``reader``).
READER = "accredit.reader"


def reader(environ: dict[str, Any] | None = None, app: Flask | None = None) -> Database:
    """The database that this request reads: the replica for a public read, else the primary.

    Chosen once per request: a replica that comes back between the version read
    and the page's own reads would have a page of the lagging replica kept under
    the primary's newer version.
    """
    found = database(app)
    if environ is None:
        if not has_request_context():
            return found  # a command or a test's app context: the primary
        environ = request.environ
    chosen = environ.get(READER)
    if chosen is None:
        chosen = environ[READER] = found.public() if public_read(environ, app) else found
    return chosen


def session() -> Session:
    """The session of the current request (or app context), made on first use.

    Made on ``reader()``: the replica for a public read, the primary otherwise.
    """
    if "db_session" not in g:
        g.db_session = reader().session()
    return g.db_session


def _remove_session(_exc: BaseException | None) -> None:
    found = g.pop("db_session", None)
    if found is not None:
        found.close()
