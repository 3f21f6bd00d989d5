"""The register's version: one number that moves with every change the public can see.

Cached pages, ETags, the search snapshots and the status list are all keyed on
it, with the Bangkok day (statuses change with dates alone: expiry, the end of
a suspension), so none of them can outlive a change. A page that shows one
body is keyed on that body's version (``of_body``) instead. Only ``changes.record``
and index maintenance move it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import CheckConstraint, Integer, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .dates import BANGKOK, local_date
from .db import Base, Database, utcnow


class RegisterState(Base):
    """One row: the version, bumped (row-locked until commit) by every public change."""

    __tablename__ = "register_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Version:
    number: int
    changed_at: datetime
    #: The Bangkok day: derived statuses (expiry, end of suspension) move with it.
    day: str
    #: None for the whole register's version; the body's for one body's (``of_body``).
    cab_id: int | None = None
    #: The log's signed size, while one of the body's leaves is not yet in it.
    signed: int | None = None
    #: The log's signed size as read (in no tag: signing moves no version).
    log_size: int = 0

    @property
    def tag(self) -> str:
        if self.cab_id is None:
            return f"{self.number}-{self.day}"
        waiting = "" if self.signed is None else f"-log{self.signed}"
        return f"b{self.cab_id}{waiting}:{self.number}-{self.day}"

    @property
    def last_modified(self) -> datetime:
        """The later of the last change and the start of today in Bangkok."""
        midnight = datetime.combine(date.fromisoformat(self.day), time(0), BANGKOK).astimezone(UTC)
        return max(self.changed_at, midnight).replace(microsecond=0)


def bump(session: Session, now: datetime) -> int:
    """Move the register to its next version (row-locked until commit); return it."""
    return session.execute(
        update(RegisterState)
        .where(RegisterState.id == 1)
        .values(version=RegisterState.version + 1, changed_at=now)
        .returning(RegisterState.version)
    ).scalar_one()


def lock(session: Session) -> None:
    """Take the register's write lock now, before reading what a change will build on.

    Writers that allocate (the next revision, the next status-list index) or
    rebuild index rows must not interleave: on PostgreSQL the version row is
    locked until commit; SQLite's write transactions are already exclusive
    (``Database.transaction`` begins them IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(RegisterState.version).where(RegisterState.id == 1).with_for_update()
        )


VERSION_SQL = (
    "SELECT version, changed_at, (SELECT max(size) FROM log_checkpoint)"
    " FROM register_state WHERE id = 1"
)


def peek(database: Database, now: datetime) -> Version:
    """The version from one tiny query on a kept connection: every public page asks it."""
    number, at, signed = database.peek(VERSION_SQL)
    return Version(
        number=number, changed_at=_utc(at), day=local_date(now).isoformat(), log_size=signed or 0
    )


#: One body's version: the newest register version that touched any of its
#: accreditations (``changes.record`` reindexes exactly those, stamped with the
#: version), the register's last change, the log's signed size and the body's
#: newest leaf. ``{cab}`` is an int, formatted in.
BODY_SQL = (
    "SELECT (SELECT max(version) FROM search_entry WHERE cab_id = {cab}),"
    " (SELECT changed_at FROM register_state WHERE id = 1),"
    " (SELECT max(size) FROM log_checkpoint),"
    " (SELECT max(c.log_index) FROM certificate c JOIN accreditation a"
    " ON a.id = c.accreditation_id WHERE a.cab_id = {cab}),"
    " (SELECT max(e.log_index) FROM status_event e JOIN accreditation a"
    " ON a.id = e.accreditation_id WHERE a.cab_id = {cab})"
)


def of_body(database: Database, cab_id: int, now: datetime) -> Version | None:
    """The version of what one body's pages show, or None when it has no entry.

    A record or QR page shows one body: its accreditations, their events and
    certificates. Keyed on the whole register's version, every such page was
    thrown away by every change anywhere (a change a second made the soak's QR
    p99 205 ms with nothing else to do). Every public change names the
    accreditations whose answer it changes (``Change.accreditations``), and
    their search entries carry its version; so a body's pages move only when
    one of its own entries does. They also show an inclusion-proof link for
    each leaf the log's signed checkpoint covers: while a leaf of the body is
    not yet covered, the signed size is part of the version, so the link
    appears with the checkpoint that covers it.
    """
    number, at, signed, certificate, event = database.peek(BODY_SQL.format(cab=int(cab_id)))
    if number is None:
        return None
    leaves = [i for i in (certificate, event) if i is not None]
    covered = not leaves or (signed is not None and signed > max(leaves))
    return Version(
        number=number,
        changed_at=_utc(at),
        day=local_date(now).isoformat(),
        cab_id=int(cab_id),
        signed=None if covered else signed or 0,
        log_size=signed or 0,
    )


def _utc(at: datetime | str) -> datetime:
    if isinstance(at, str):  # SQLite hands back text
        at = datetime.fromisoformat(at)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def current(session: Session, now: datetime) -> Version:
    """The version as the caller's own transaction sees it."""
    number, at = session.execute(
        select(RegisterState.version, RegisterState.changed_at).where(RegisterState.id == 1)
    ).one()
    return Version(number=number, changed_at=at, day=local_date(now).isoformat())
