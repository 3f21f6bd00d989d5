"""What the current app holds: its settings and database, and the request's session."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from ..db import Database
from ..settings import Settings

SETTINGS = "accredit.settings"
DATABASE = "accredit.database"


def init_app(app: Flask, settings: Settings, database: Database) -> None:
    app.extensions[SETTINGS] = settings
    app.extensions[DATABASE] = database
    app.teardown_appcontext(_remove_session)


def settings(app: Flask | None = None) -> Settings:
    return (app or current_app).extensions[SETTINGS]


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions[DATABASE]


def session() -> Session:
    """The session of the current request (or app context), made on first use."""
    if "db_session" not in g:
        g.db_session = database().session()
    return g.db_session


def _remove_session(_exc: BaseException | None) -> None:
    found = g.pop("db_session", None)
    if found is not None:
        found.close()
