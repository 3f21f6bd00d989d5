"""What changed, and when: the register's version and the search index.

Every transaction that changes something the public sees calls ``changed``.
It re-indexes the accreditations touched and bumps one version number in the
same transaction, so cached answers, ETags and the status list (all keyed on
that version and the Bangkok date) can never outlive the change.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from . import search_index
from .models import Accreditation, RegisterState, SearchEntry
from .status import BANGKOK, local_date


@dataclass(frozen=True)
class Version:
    number: int
    changed_at: datetime
    #: The Bangkok day: derived statuses (expiry, end of suspension) move with it.
    day: str

    @property
    def tag(self) -> str:
        return f"{self.number}-{self.day}"

    @property
    def last_modified(self) -> datetime:
        """The later of the last change and the start of today in Bangkok."""
        midnight = datetime.combine(date.fromisoformat(self.day), time(0), BANGKOK).astimezone(UTC)
        return max(self.changed_at, midnight).replace(microsecond=0)


def changed(session: Session, accreditation_ids: Collection[int], now: datetime) -> None:
    """Record, inside the caller's transaction, that these accreditations changed."""
    session.flush()
    search_index.reindex(session, now, bump(session, now), accreditation_ids)


def bump(session: Session, now: datetime) -> int:
    """Move the register to its next version (row-locked until commit); return it."""
    return session.execute(
        update(RegisterState)
        .where(RegisterState.id == 1)
        .values(version=RegisterState.version + 1, changed_at=now)
        .returning(RegisterState.version)
    ).scalar_one()


_local = threading.local()
VERSION_SQL = "SELECT version, changed_at FROM register_state WHERE id = 1"


def peek(engine: Engine, now: datetime) -> Version:
    """The register's version, from one tiny query on a connection kept for it.

    Every public page asks this on every request, so it skips the ORM and the
    pool: each thread of each process keeps one autocommit connection per
    database. A broken connection is replaced once.
    """
    key = (os.getpid(), id(engine))
    connections: dict[tuple[int, int], Any] = _local.__dict__.setdefault("connections", {})
    for attempt in (1, 2):
        connection = connections.get(key)
        if connection is None:
            # A plain DBAPI connection, outside the pool: nothing to return or reset.
            cargs, cparams = engine.dialect.create_connect_args(engine.url)
            connection = engine.dialect.connect(*cargs, **cparams)
            if engine.dialect.name == "postgresql":
                connection.autocommit = True
            else:
                connection.isolation_level = None
            connections[key] = connection
        try:
            cursor = connection.cursor()
            cursor.execute(VERSION_SQL)
            number, at = cursor.fetchone()
            cursor.close()
            break
        except Exception:
            connections.pop(key, None)
            if attempt == 2:
                raise
    if isinstance(at, str):  # SQLite hands back text
        at = datetime.fromisoformat(at)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return Version(number=number, changed_at=at, day=local_date(now).isoformat())


def current(session: Session, now: datetime) -> Version:
    number, at = session.execute(
        select(RegisterState.version, RegisterState.changed_at).where(RegisterState.id == 1)
    ).one()
    return Version(number=number, changed_at=at, day=local_date(now).isoformat())


def ensure_indexed(session: Session, now: datetime) -> int:
    """Index the whole register when entries are missing (after a bulk load or upgrade)."""
    have = session.scalar(select(func.count()).select_from(SearchEntry))
    want = session.scalar(select(func.count()).select_from(Accreditation))
    if have == want:
        return 0
    indexed = search_index.reindex(session, now, bump(session, now))
    if session.get_bind().dialect.name == "postgresql":
        # Fresh statistics, or the planner scans instead of using the trigram index.
        session.execute(text("ANALYZE search_word, search_entry, search_facet"))
    return indexed
