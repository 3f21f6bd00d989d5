"""The log as the database keeps it: entries, the hash of every perfect subtree, checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, utcnow


class LogEntry(Base):
    """One leaf: its index, its kind, when, and its bytes (``leaves.encode``)."""

    __tablename__ = "log_entry"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LogHash(Base):
    """The hash of the perfect subtree of height ``level`` at position ``index``.

    Level 0 holds the leaf hashes; a node appears once both its children do.
    Tiles are rows of levels 0, 8, 16 and so on, read in order.
    """

    __tablename__ = "log_hash"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogCheckpoint(Base):
    """A signed tree head: the note as served (without witness cosignatures)."""

    __tablename__ = "log_checkpoint"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)


class LogCosignature(Base):
    """A witness's cosignature line over one checkpoint."""

    __tablename__ = "log_cosignature"

    size: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("log_checkpoint.size"), primary_key=True, autoincrement=False
    )
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
