"""The register's version: one number that moves with every change the public can see.

Cached pages, ETags, the search snapshots and the status list are all keyed on
it, with the Bangkok day (statuses change with dates alone: expiry, the end of
a suspension), so none of them can outlive a change. Only ``changes.record``
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

    @property
    def tag(self) -> str:
        return f"{self.number}-{self.day}"

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


VERSION_SQL = "SELECT version, changed_at FROM register_state WHERE id = 1"


def peek(database: Database, now: datetime) -> Version:
    """The version from one tiny query on a kept connection: every public page asks it."""
    number, at = database.peek(VERSION_SQL)
    if isinstance(at, str):  # SQLite hands back text
        at = datetime.fromisoformat(at)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return Version(number=number, changed_at=at, day=local_date(now).isoformat())


def current(session: Session, now: datetime) -> Version:
    """The version as the caller's own transaction sees it."""
    number, at = session.execute(
        select(RegisterState.version, RegisterState.changed_at).where(RegisterState.id == 1)
    ).one()
    return Version(number=number, changed_at=at, day=local_date(now).isoformat())
