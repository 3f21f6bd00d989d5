"""Shared fixtures: real SQLite and PostgreSQL databases, the app, and the CLI.

PostgreSQL is the server on 127.0.0.1:5432 (user postgres, trust auth). Each
test session creates its own databases and drops them at the end. When ``CI``
is set an unreachable server fails the run; elsewhere it skips, loudly.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis  # noqa: F401  (see below)
import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from keys import pki as pki_module
from keys.config import PkiConfig
from keys.pki import Pki
from keys.signing import DocumentSigner, open_document_signer, sign_pdf
from registry import db, schema  # noqa: F401  (every model: mappers resolve)
from registry.app import create_app
from registry.db import Database
from registry.search.bitmaps import snapshots

from .documents import blank_pdf

# hypothesis is imported here, at collection, not lazily by its plugin at the end
# of the session: on CPython 3.11.7 a RecursionError inside a library's AST work
# (seen after the OpenAPI tests) leaves the AST constructor's depth counter off,
# and the plugin's late import then fails with "AST constructor recursion depth
# mismatch" after every test has passed.

# Tests configure the app explicitly; a developer's ACCREDIT_* variables must not leak in.
for _name in [n for n in os.environ if n.startswith("ACCREDIT_")]:
    del os.environ[_name]

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", "postgresql"]
ROOT = Path(__file__).resolve().parent.parent


def _pg_unavailable(reason: str) -> None:
    message = f"PostgreSQL at 127.0.0.1:5432 is unreachable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this is a failure, not a skip)", pytrace=False)
    warnings.warn(message + "; PostgreSQL TESTS ARE SKIPPED", stacklevel=2)
    sys.stderr.write(f"\n!!! {message}; PostgreSQL TESTS ARE SKIPPED !!!\n")
    pytest.skip(message)


class PgDatabases:
    """Creates throwaway databases on the local server and drops them at the end."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.error: str | None = None
        try:
            with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5):
                pass
        except psycopg.Error as exc:
            self.error = str(exc).strip().splitlines()[0]

    def new(self) -> str:
        if self.error:
            _pg_unavailable(self.error)
        name = f"accredit_test_{secrets.token_hex(6)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    def drop_all(self) -> None:
        if not self.created:
            return
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    databases = PgDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def make_database_url(
    pg_databases: PgDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """A factory: an empty database URL for ``sqlite`` or ``postgresql``."""

    def make(backend: str) -> str:
        if backend == "postgresql":
            return pg_databases.new()
        folder = tmp_path_factory.mktemp("sqlite")
        return f"sqlite:///{folder / 'accredit.sqlite3'}"

    return make


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, make_database_url: Callable[[str], str]
) -> Iterator[Engine]:
    """A migrated database per backend, shared by the session.

    Every test's work on it is rolled back (``session``, ``app``); at the end
    it must be as empty as it began, or some test wrote around its transaction.
    """
    url = make_database_url(request.param)
    eng = db.make_engine(url)
    db.upgrade(eng)
    yield eng
    with eng.connect() as conn:
        left = {
            table: conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in ("cab", "accreditation", "certificate", "audit_log", "staff_user")
        }
    eng.dispose()
    assert set(left.values()) == {0}, f"tests left rows behind: {left}"


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (commits become savepoints)."""
    with engine.connect() as conn:
        outer = conn.begin()
        with Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as s:
            yield s
        outer.rollback()
    snapshots.forget()


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Flask]:
    """A factory: an app on a fresh instance folder; ``database`` binds it (see ``app``)."""

    def make(database: Database | None = None, **config: Any) -> Flask:
        values: dict[str, Any] = {"INSTANCE": str(tmp_path / "instance")}
        values.update(config)
        Path(values["INSTANCE"]).mkdir(parents=True, exist_ok=True)  # as `accredit init` does
        app = create_app(values, database=database)
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask], engine: Engine) -> Iterator[Flask]:
    """The app on each backend's migrated database; all that it writes is rolled back."""
    with engine.connect() as connection:
        outer = connection.begin()
        yield make_app(
            database=Database.bound_to(connection),
            DATABASE_URL=engine.url.render_as_string(hide_password=False),
        )
        outer.rollback()
    snapshots.forget()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def accredit(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``accredit`` console script in a subprocess."""
    script = Path(sys.executable).parent / "accredit"

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
        environ["ACCREDIT_INSTANCE"] = str(tmp_path / "instance")
        environ.update(env or {})
        return subprocess.run(
            [str(script), *args], capture_output=True, text=True, env=environ, timeout=600
        )

    return run


# pyHanko warns on every signature that fetching is disabled; that is the point.
logging.getLogger("pyhanko").setLevel(logging.ERROR)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)


@pytest.fixture
def make_pki(tmp_path: Path) -> Callable[..., Pki]:
    counter = iter(range(1000))

    def make(
        algorithm: str = "ec-p256",
        passphrase: str | None = None,
        now: datetime | None = None,
        **config: object,
    ) -> Pki:
        folder = tmp_path / f"pki{next(counter)}"
        cfg = PkiConfig(algorithm=algorithm, **config)  # type: ignore[arg-type]
        return pki_module.create(folder, cfg, passphrase, now)

    return make


@pytest.fixture(scope="session")
def shared_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """One ECDSA PKI for read-only tests, to keep the suite quick."""
    return pki_module.create(tmp_path_factory.mktemp("pki") / "pki", PkiConfig(), None)


@pytest.fixture(scope="session")
def shared_signer(shared_pki: Pki) -> DocumentSigner:
    return open_document_signer(shared_pki)


@pytest.fixture(scope="session")
def signed_pdf(shared_signer: DocumentSigner) -> bytes:
    return sign_pdf(blank_pdf(), shared_signer)


def years(n: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=365 * n)
