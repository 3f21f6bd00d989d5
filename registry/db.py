"""The database: the model base and column types, engines, sessions, migrations.

Nothing here knows about Flask: the web layer keeps one ``Database`` on the app
and one session per request (``web.database``); the CLI and the workers of
``accredit verify`` open sessions from a ``Database`` of their own. Alembic
owns the schema: ``upgrade()`` is the only way tables come into being.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from importlib.resources import files
from typing import Any, ClassVar

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError as AlembicError
from sqlalchemy import Connection, DateTime, Engine, Enum, MetaData, TypeDecorator, create_engine
from sqlalchemy import event as sa_event
from sqlalchemy import text as sql_text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
SQLITE_MEMORY = (None, "", ":memory:")
#: Execution option marking a write transaction (SQLite begins it IMMEDIATE).
WRITE = "accredit_write"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class DatabaseError(Exception):
    """The database cannot be used; the message is meant for a person."""


class SchemaTooNew(DatabaseError):
    pass


# --- the model base -----------------------------------------------------------


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given; the register stores UTC instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A portable enum: VARCHAR plus a CHECK constraint, storing the values."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Every domain's models derive from this; ``registry.schema`` imports them all."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


# --- engines ------------------------------------------------------------------


#: Without a request budget (the CLI, migrations): wait this long for a connection or a lock.
CONNECT_TIMEOUT = 5
BUSY_TIMEOUT = 10
#: ``statement_timeout`` is the budget less this (milliseconds); see ``make_engine``.
STATEMENT_GRACE_MS = 250
#: A write transaction's budget (seconds), longer than a read's: writers queue on the
#: register's lock (``version.lock``), and an issuance renders and signs under it
#: (0.3 s warm, 2-3 s for a process's first), so the writer behind it waits that long
#: as a matter of course. Below gunicorn's 30 s worker timeout.
WRITE_TIMEOUT = 15


def make_engine(url: str, timeout: int | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url``; ``timeout`` (seconds) bounds every wait of a web request.

    With a timeout, nothing waits longer than it: the connection (PostgreSQL
    ``connect_timeout``), each statement (``statement_timeout``, so a lock or
    a runaway query cannot hold a worker), a connection from the pool
    (``pool_timeout``: when the server is frozen, the requests after the first
    few are answered at once instead of queueing) and SQLite's lock
    (``busy_timeout``). Connections are checked before use (``pool_pre_ping``),
    so the service recovers by itself when the database comes back.

    ``statement_timeout`` is the server's own clock, so a server that is frozen
    (stopped with SIGSTOP, a hung host) never enforces it, while its kernel keeps
    the TCP connection up: on PostgreSQL every wait for the server's answer is
    also bounded on our side (``BoundedConnection``).
    """
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
    connect_args = kwargs.setdefault("connect_args", {})
    if parsed.get_backend_name() == "postgresql":
        connect_args.setdefault("connect_timeout", timeout or CONNECT_TIMEOUT)
        if timeout:
            # A little under the budget: a live server cancels a slow statement
            # itself, with its own error, before our side gives up on its answer.
            statement = timeout * 1000 - STATEMENT_GRACE_MS
            connect_args.setdefault("options", f"-c statement_timeout={statement}")
    else:
        connect_args.setdefault("timeout", timeout or BUSY_TIMEOUT)
    if timeout:
        kwargs.setdefault("pool_pre_ping", True)
        if parsed.get_backend_name() == "postgresql" or parsed.database not in SQLITE_MEMORY:
            kwargs.setdefault("pool_timeout", timeout)  # in-memory SQLite has no queue
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(f"unsupported database URL {safe_url(url)}: {exc}") from exc
    _connect_args[engine] = dict(connect_args)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine, timeout or BUSY_TIMEOUT)
    elif timeout:
        bound = _bounds[engine] = Bound(timeout)

        @sa_event.listens_for(engine, "do_connect")
        def _bounded(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            return BoundedConnection.open(bound, *cargs, **cparams)

    return engine


#: After the server failed to answer in time, new waits on it fail at once for this long.
HOLD_SECONDS = 5.0


class Unanswered(psycopg.OperationalError):
    """The server did not answer within the limit, or failed to just now (see ``Bound``)."""


class Bound:
    """One engine's limit on each wait for the server, and when it last went unanswered.

    A frozen server costs the first request that meets it the limit (and a
    server that refuses connections, its refusal); for the next
    ``HOLD_SECONDS`` every connection and query on the engine fails at once
    (each worker would otherwise pay the limit again per pooled connection),
    and then one is tried again: recovery needs no restart. A replica that is
    quiet is passed over for the primary (``Database.public``).
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.quiet_until = 0.0

    @property
    def quiet(self) -> bool:
        """Whether the server failed to answer (or to connect) within the last hold."""
        return time.monotonic() < self.quiet_until

    def check(self) -> None:
        if self.quiet:
            raise Unanswered(f"the database did not answer within {self.limit:g} s just now")

    def trip(self) -> None:
        self.quiet_until = time.monotonic() + HOLD_SECONDS


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits at most its ``Bound``'s limit for each answer.

    Measured with a private PostgreSQL stopped by SIGSTOP: its kernel still
    accepts and acknowledges our bytes, so a query (or the pool's pre-ping) on
    a connection made before the freeze waited forever, and every worker hung
    until gunicorn killed it. Past the limit the connection is closed (its
    protocol state is unknown), so SQLAlchemy drops it from the pool, and the
    error is an ``OperationalError``: the web layer's 503, or a stale copy.
    """

    bound: Bound
    #: While set (a write transaction, ``Database.transaction``), the limit instead.
    widened: float | None = None

    @property
    def limit(self) -> float:
        return self.widened or self.bound.limit

    @classmethod
    def open(cls, bound: Bound, *args: Any, **kwargs: Any) -> BoundedConnection:
        bound.check()
        try:
            connection = cls.connect(*args, **kwargs)
        except psycopg.OperationalError:  # refused, timed out, shutting down...
            bound.trip()
            raise
        connection.bound = bound
        return connection

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        try:
            self.bound.check()
            return super().wait(gen, interval, self.limit if timeout is None else timeout)
        except Unanswered:
            self.pgconn.finish()
            raise
        # psycopg's own (private) name for a wait that timed out; an OperationalError.
        except psycopg.errors._WaitTimeout as exc:
            self.bound.trip()
            self.pgconn.finish()
            raise Unanswered(f"the database did not answer within {self.limit:g} s") from exc


#: Each web engine's ``Bound`` on PostgreSQL, for ``Database.peek``'s own connections.
_bounds: weakref.WeakKeyDictionary[Engine, Bound] = weakref.WeakKeyDictionary()


#: What each engine passes to the driver's connect, for ``Database.peek``'s own connections.
_connect_args: weakref.WeakKeyDictionary[Engine, dict[str, Any]] = weakref.WeakKeyDictionary()


#: The register's own files (SQLite's database, WAL and shared memory): owner only.
PRIVATE_FILE = 0o600


def keep_private(path: str) -> None:
    """Make the SQLite file 0600 before SQLite first opens it, and tighten an older one.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, so a
    database created 0600 keeps all three private; one made before this rule
    (0644 under the usual umask) is brought down to 0600, with its companions.
    Files of another owner are left alone: chmod would fail, and they are theirs.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        pass
    except OSError:  # no such folder, or not ours to write: SQLite will say so on connect
        return
    else:
        os.close(descriptor)
    for name in (path, f"{path}-wal", f"{path}-shm"):
        try:
            found = os.stat(name)
            if found.st_uid == os.getuid() and found.st_mode & 0o077:
                os.chmod(name, PRIVATE_FILE)
        except OSError:
            continue


def safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _tune_sqlite(engine: Engine, busy_timeout: int) -> None:
    """WAL, enforced foreign keys, and real transactions (SAVEPOINT, DDL).

    pysqlite's own transaction handling skips BEGIN for DDL and breaks
    savepoints; SQLAlchemy documents taking it over as below.
    """

    if engine.url.database not in SQLITE_MEMORY:
        path = str(engine.url.database)

        @sa_event.listens_for(engine, "do_connect")
        def _private(*_args: Any) -> None:
            keep_private(path)  # before SQLite opens (and perhaps creates) the file

    @sa_event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout * 1000}")
        record.info["busy_timeout"] = busy_timeout
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa_event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        writing = bool(connection.get_execution_options().get(WRITE))
        # A writer waits for the writer before it as long as a write may take;
        # a reader (WAL: it waits only for recovery) keeps the request's budget.
        wait = max(busy_timeout, WRITE_TIMEOUT) if writing else busy_timeout
        if connection.info.get("busy_timeout") != wait:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {wait * 1000}")
            connection.info["busy_timeout"] = wait
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def check_connection(engine: Engine) -> None:
    """Raise ``DatabaseError`` with one readable line if the database is unreachable."""
    try:
        with engine.connect() as conn:
            conn.execute(sql_text("SELECT 1"))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{reason}"
        ) from exc


_local = threading.local()


class Database:
    """An engine, the sessions made on it, and a kept connection for tiny hot queries.

    ``replica`` is a second ``Database`` on a PostgreSQL streaming replica:
    ``public()`` hands it to the web layer for the public's reads (pages, QR
    answers, search, API GETs), so that read load scales out; everything else,
    and every ``transaction``, stays on this one, the primary.

    ``bound_to`` is for tests: every session then joins one connection's
    transaction, so the test's rollback undoes all that the app did. A write
    transaction (``transaction``) is a savepoint there; other sessions make no
    savepoint of their own, because closing a request's session would roll
    back to it, undoing a write made after it was opened. So writes always go
    through ``transaction``, never ``session().begin()``.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        connection: Connection | None = None,
        replica: Database | None = None,
    ) -> None:
        self.engine = engine
        self.connection = connection
        self.replica = replica
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(
        cls, url: str, timeout: int | None = None, replica_url: str | None = None
    ) -> Database:
        replica = cls(make_engine(replica_url, timeout)) if replica_url else None
        return cls(make_engine(url, timeout), replica=replica)

    def public(self) -> Database:
        """Where the public's reads go: the replica when there is one, else this database.

        The replica lags the primary by its replay delay; what the public sees is
        then the register as the replica has it, a state the primary did commit.
        A replica that just failed to answer (``Bound.quiet``) is passed over for
        the primary until it is tried again: the request that met the failure got
        a stale copy or a 503, the ones after it are answered.
        """
        if self.replica is None or self.replica.quiet():
            return self
        return self.replica

    def quiet(self) -> bool:
        """Whether this database failed to answer just now (PostgreSQL web engines only)."""
        bound = _bounds.get(self.engine)
        return bound is not None and bound.quiet

    @classmethod
    def bound_to(cls, connection: Connection) -> Database:
        return cls(connection.engine, connection=connection)

    def session(self) -> Session:
        if self.connection is not None:
            return Session(
                bind=self.connection, join_transaction_mode="rollback_only", expire_on_commit=False
            )
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a write transaction: committed on success, rolled back on error.

        On SQLite it begins IMMEDIATE, so a second writer waits for the first
        (``busy_timeout``) instead of failing with "database is locked" at its
        first write, when its read snapshot can no longer become a write.

        Every wait in it is bounded by ``WRITE_TIMEOUT``, not the request's read
        budget: two issuances decided at the same moment on PostgreSQL made the
        second wait 2-3 s for the register's lock, past the 2 s budget, and it
        failed with "canceling statement due to statement timeout".
        """
        if self.connection is not None:
            bound = Session(
                bind=self.connection,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
            )
            with bound, bound.begin():
                yield bound
            return
        with self.session() as session:
            widened: BoundedConnection | None = None
            try:
                with session.begin():
                    connection = session.connection(execution_options={WRITE: True})
                    widened = _widen_for_writing(connection)
                    yield session
            finally:
                if widened is not None:
                    widened.widened = None

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only session on one consistent snapshot of the register, for long reads.

        An export reads a thousand bodies at a time; a decision committed in
        between must not land in half of it. PostgreSQL's REPEATABLE READ holds
        one snapshot from the first query to the end; a SQLite (WAL) read
        transaction does the same by itself. Nothing is written, so it ends in
        a rollback. Bound to a test's connection it reads inside that
        transaction, which is one snapshot already.
        """
        if self.connection is not None:
            with self.session() as bound:
                yield bound
            return
        with self._sessions() as session:
            if self.engine.dialect.name == "postgresql":
                session.connection(
                    execution_options={
                        "isolation_level": "REPEATABLE READ",
                        "postgresql_readonly": True,
                    }
                )
            else:
                session.connection()
            try:
                yield session
            finally:
                session.rollback()

    def peek(self, sql: str) -> tuple[Any, ...]:
        """One row of a tiny read, on a connection kept for it outside the pool.

        Every public page asks the register version on every request, so this
        skips the ORM and the pool: each thread of each process keeps one
        autocommit DBAPI connection per database. A broken one is replaced once.
        """
        if self.connection is not None:
            return tuple(self.connection.exec_driver_sql(sql).one())
        engine = self.engine
        key = (os.getpid(), id(engine))
        connections: dict[tuple[int, int], Any] = _local.__dict__.setdefault("connections", {})
        dbapi_error = engine.dialect.loaded_dbapi.Error
        for attempt in (1, 2):
            connection = connections.get(key)
            fresh = connection is None  # a new connection that fails is not tried again
            try:
                if connection is None:
                    connection = connections[key] = _peek_connection(engine)
                cursor = connection.cursor()
                cursor.execute(sql)
                row = cursor.fetchone()
                cursor.close()
                return tuple(row)
            except Exception as exc:
                connections.pop(key, None)
                # A server that did not answer is not asked again within this request.
                silent = isinstance(exc, (Unanswered, psycopg.errors.ConnectionTimeout))
                if fresh or silent or attempt == 2:
                    if isinstance(exc, dbapi_error):
                        # As SQLAlchemy would raise it (OperationalError...): one kind of
                        # "database unavailable" for the web layer to answer as 503.
                        raise DBAPIError.instance(sql, None, exc, dbapi_error) from exc
                    raise
        raise AssertionError("unreachable")


def _widen_for_writing(connection: Connection) -> BoundedConnection | None:
    """Give a PostgreSQL write transaction ``WRITE_TIMEOUT``, on the server and on our side.

    ``SET LOCAL`` ends with the transaction; the caller clears ``widened`` once
    the transaction has ended (its COMMIT is bounded by the write budget too).
    A server frozen before the write still costs only the read budget: the
    pool's pre-ping and this ``SET LOCAL`` are asked under it.
    """
    if connection.dialect.name != "postgresql":
        return None  # SQLite: its begin listener widens busy_timeout
    raw = connection.connection.dbapi_connection
    if not isinstance(raw, BoundedConnection):
        return None  # no request budget (the CLI, migrations): nothing to widen
    statement = max(raw.bound.limit, WRITE_TIMEOUT) * 1000 - STATEMENT_GRACE_MS
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {statement:.0f}")
    raw.widened = max(raw.bound.limit, WRITE_TIMEOUT)
    return raw


def _peek_connection(engine: Engine) -> Any:
    """An autocommit DBAPI connection made with the engine's own connect arguments."""
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    # The engine's own connect arguments: its timeouts hold here too.
    cparams = {**cparams, **_connect_args.get(engine, {})}
    if engine.dialect.name == "sqlite" and engine.url.database not in SQLITE_MEMORY:
        keep_private(str(engine.url.database))
    bound = _bounds.get(engine)
    if bound is not None:
        connection = BoundedConnection.open(bound, *cargs, **cparams)
    else:
        connection = engine.dialect.connect(*cargs, **cparams)
    if engine.dialect.name == "postgresql":
        connection.autocommit = True
    else:
        connection.isolation_level = None
    return connection


def cache_key(session: Session) -> str:
    """Names the database a session reads, for per-process caches (the search snapshots).

    A session bound to a test's connection gets a key of its own: what it sees
    is rolled back with the test.
    """
    bind = session.get_bind()
    if isinstance(bind, Connection):
        return f"{bind.engine.url}#{id(bind)}"
    return str(bind.url)


# --- migrations ---------------------------------------------------------------


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("registry") / "migrations"))
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def known_revision(engine: Engine, revision: str) -> bool:
    """Whether this code's migrations include ``revision`` (a newer database's is unknown)."""
    try:
        return (
            ScriptDirectory.from_config(alembic_config(engine)).get_revision(revision) is not None
        )
    except AlembicError:
        return False


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
