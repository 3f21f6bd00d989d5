"""Appending to the log and reading it back: entries, hashes, proofs, tiles and bundles.

Appends happen in the caller's transaction (``changes.record`` holds the
register's write lock), so indexes never interleave. Each append writes the
entry, its leaf hash, and the hash of every perfect subtree it completes:
amortised two hash rows a leaf, and any proof then reads O(log n) rows.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from verifier import merkle
from verifier.merkle import TILE_HEIGHT, TILE_WIDTH, ProofError

from .models import LogEntry, LogHash

T = TypeVar("T")
ENTRY_INSERT = insert(LogEntry.__table__)
HASH_INSERT = insert(LogHash.__table__)


def size(session: Session) -> int:
    found = session.scalar(select(func.max(LogEntry.index)))
    return 0 if found is None else found + 1


class StoredHashes:
    """``merkle.Hashes`` over the ``log_hash`` table, remembering what it read."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: dict[tuple[int, int], bytes] = {}

    def __call__(self, level: int, index: int) -> bytes:
        key = (level, index)
        found = self.seen.get(key)
        if found is None:
            found = self.session.scalar(
                select(LogHash.hash).where(LogHash.level == level, LogHash.index == index)
            )
            if found is None:
                raise ProofError(f"the log has no subtree ({level}, {index})")
            self.seen[key] = found
        return found

    def fetch(self, wanted: Iterable[tuple[int, int]]) -> StoredHashes:
        """Read many subtrees in one query, so a proof costs one round trip, not forty."""
        missing = [key for key in wanted if key not in self.seen]
        for at in range(0, len(missing), 200):
            chunk = missing[at : at + 200]
            # Plain SQL, ORed point lookups: building forty SQLAlchemy expressions
            # costs more than the query, and SQLite scans for a row-value IN.
            where = " OR ".join(f'(level = :l{n} AND "index" = :i{n})' for n in range(len(chunk)))
            params: dict[str, int] = {}
            for n, (level, index) in enumerate(chunk):
                params[f"l{n}"], params[f"i{n}"] = level, index
            rows = self.session.execute(
                text(f'SELECT level, "index", hash FROM log_hash WHERE {where}'), params
            )
            for level, index, value in rows:
                self.seen[(level, index)] = value
        return self


def _prefetched(session: Session, compute: Callable[[merkle.Hashes], T]) -> T:
    hashes = StoredHashes(session).fetch(merkle.wanted(compute))
    return compute(hashes)


def append_many(
    session: Session, leaves: Iterable[tuple[str, bytes, datetime]], start: int | None = None
) -> list[int]:
    """Append ``(kind, data, at)`` leaves in order; returns their indexes."""
    n = size(session) if start is None else start
    frontier = [(lv, (n >> lv) - 1) for lv in range(n.bit_length()) if n >> lv & 1]
    hashes = StoredHashes(session).fetch(frontier)
    edge = {level: hashes(level, index) for level, index in frontier}
    entries: list[dict[str, object]] = []
    rows: list[dict[str, object]] = []
    indexes: list[int] = []
    for kind, data, at in leaves:
        entries.append({"index": n, "kind": kind, "at": at, "data": data})
        h = merkle.leaf_hash(data)
        rows.append({"level": 0, "index": n, "hash": h})
        level, i = 0, n
        while i & 1:
            h = merkle.node_hash(edge.pop(level), h)
            level += 1
            i >>= 1
            rows.append({"level": level, "index": i, "hash": h})
        edge[level] = h
        indexes.append(n)
        n += 1
    # Core inserts on the session's connection: the ORM's bulk path costs more than the rows.
    connection = session.connection()
    for start_at in range(0, len(entries), 5000):
        connection.execute(ENTRY_INSERT, entries[start_at : start_at + 5000])
    for start_at in range(0, len(rows), 10000):
        connection.execute(HASH_INSERT, rows[start_at : start_at + 10000])
    return indexes


def append(session: Session, kind: str, data: bytes, at: datetime) -> int:
    """Append one leaf in the caller's transaction; returns its index."""
    (index,) = append_many(session, [(kind, data, at)])
    return index


def root(session: Session, tree_size: int) -> bytes:
    return _prefetched(session, lambda h: merkle.root_hash(h, tree_size))


def inclusion(session: Session, index: int, tree_size: int) -> list[bytes]:
    return _prefetched(session, lambda h: merkle.inclusion_proof(h, index, tree_size))


def consistency(session: Session, old: int, new: int) -> list[bytes]:
    return _prefetched(session, lambda h: merkle.consistency_proof(h, old, new))


def proof_url(index: int | None, signed: int) -> str | None:
    """Where anyone can fetch the inclusion proof of leaf ``index`` in the signed tree."""
    if index is None or index >= signed:
        return None
    return f"/log/proof/inclusion?index={index}&size={signed}"


def tile(session: Session, level: int, index: int, width: int) -> bytes:
    """The hashes of tile ``index`` at tile level ``level``: ``width`` of them."""
    start = index * TILE_WIDTH
    found = session.scalars(
        select(LogHash.hash)
        .where(
            LogHash.level == level * TILE_HEIGHT,
            LogHash.index >= start,
            LogHash.index < start + width,
        )
        .order_by(LogHash.index)
    ).all()
    if len(found) != width:
        raise ProofError("the tile is not complete")
    return b"".join(found)


def bundle(session: Session, index: int, width: int) -> bytes:
    """Entry bundle ``index``: ``width`` entries, each with a big-endian 16-bit length."""
    start = index * TILE_WIDTH
    found = session.scalars(
        select(LogEntry.data)
        .where(LogEntry.index >= start, LogEntry.index < start + width)
        .order_by(LogEntry.index)
    ).all()
    if len(found) != width:
        raise ProofError("the entry bundle is not complete")
    return b"".join(struct.pack(">H", len(d)) + d for d in found)
