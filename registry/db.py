"""Engines, sessions and schema migrations.

One engine per app; one session per request, removed at teardown. Alembic owns
the schema: ``upgrade()`` is the only way tables come into being.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class DatabaseError(Exception):
    """The database cannot be used; the message is meant for a person."""


class SchemaTooNew(DatabaseError):
    pass


def make_engine(url: str, **kwargs: Any) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"ACCREDIT_DATABASE_URL is not a database URL: {url!r}") from exc
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise DatabaseError(
            f"unsupported database {safe_url(url)}: use sqlite:///PATH or postgresql://HOST/NAME"
        )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(f"unsupported database URL {safe_url(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return engine


def safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _tune_sqlite(engine: Engine) -> None:
    """WAL, enforced foreign keys, and real transactions (SAVEPOINT, DDL).

    pysqlite's own transaction handling skips BEGIN for DDL and breaks
    savepoints; SQLAlchemy documents taking it over as below.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def check_connection(engine: Engine) -> None:
    """Raise ``DatabaseError`` with one readable line if the database is unreachable."""
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{reason}"
        ) from exc


# --- migrations ---------------------------------------------------------------


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("registry") / "migrations"))
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, target: str = "head") -> None:
    """Bring the schema to ``target``, refusing a database newer than this code."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    current = current_revision(engine)
    if current is not None and current not in {s.revision for s in script.walk_revisions()}:
        raise SchemaTooNew(
            f"the database schema is at revision {current}, which this version of accredit "
            f"does not know (its newest is {script.get_current_head()}); "
            "the database was created by newer software; upgrade accredit instead"
        )
    command.upgrade(alembic_config(engine), target)


def downgrade(engine: Engine, target: str) -> None:
    command.downgrade(alembic_config(engine), target)


# --- Flask wiring ---------------------------------------------------------------


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["accredit.engine"] = engine
    app.extensions["accredit.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_remove_session)


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["accredit.engine"]


def get_session() -> Session:
    """The session of the current request (or app context), created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["accredit.sessionmaker"]()
    return g.db_session


def _remove_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction outside a request: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
