"""Signing checkpoints: after a change commits, never inside it, and never inconsistently.

A checkpoint is signed only over committed leaves, so a rolled-back change can
never be in a signed tree head. Before signing, the log proves to itself that
the new tree extends the last signed one (a consistency proof from the stored
hashes, checked against the last checkpoint's own root and signature), and
that every leaf since then hashes to what is stored. If anything was edited
or deleted in between, it refuses to sign: two inconsistent checkpoints never
leave this module. A crash between a change and its signing only delays the
next checkpoint, which then covers both.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from verifier import merkle, notes
from verifier.notes import Checkpoint, Verifier
from verifier.sources import LogProof

from ..version import lock
from . import store
from .models import LogCheckpoint, LogCosignature, LogEntry, LogHash


class LogCorrupted(RuntimeError):
    """The stored log no longer extends its last signed checkpoint: nothing is signed."""


@dataclass(frozen=True)
class LogKey:
    """The log's identity: its origin line and its Ed25519 key."""

    origin: str
    key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.origin, self.key.public_key())


def latest(session: Session) -> LogCheckpoint | None:
    return session.scalars(
        select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)
    ).first()


def signed_size(session: Session) -> int:
    found = session.scalar(select(LogCheckpoint.size).order_by(LogCheckpoint.size.desc()).limit(1))
    return found or 0


def with_cosignatures(session: Session, checkpoint: LogCheckpoint) -> str:
    """The checkpoint note as served: the log's signature, then each witness's."""
    lines = session.scalars(
        select(LogCosignature.line)
        .where(LogCosignature.size == checkpoint.size)
        .order_by(LogCosignature.witness)
    ).all()
    return checkpoint.note + "".join(lines)


def sign(session: Session, log: LogKey, now: datetime) -> LogCheckpoint | None:
    """Sign the current tree if it grew since the last checkpoint; None if it did not.

    Raises ``LogCorrupted`` rather than sign a tree that does not extend the last one.
    """
    lock(session)
    size = store.size(session)
    last = latest(session)
    if last is not None and last.size == size:
        return None
    if size == 0:
        return None
    hashes = store.StoredHashes(session)
    try:
        root = merkle.root_hash(hashes, size)
    except merkle.ProofError as exc:
        raise LogCorrupted(f"the log's hashes are incomplete: {exc}") from exc
    start = 0
    if last is not None:
        try:
            notes.verify_note(last.note, [log.verifier])
            if Checkpoint.parse(notes.parse_note(last.note).text).root != last.root:
                raise LogCorrupted("the last checkpoint's stored root is not the one it signed")
            merkle.verify_consistency(
                last.size, size, last.root, root, merkle.consistency_proof(hashes, last.size, size)
            )
        except (notes.NoteError, merkle.ProofError) as exc:
            raise LogCorrupted(f"the log does not extend its last checkpoint: {exc}") from exc
        start = last.size
    _check_leaves(session, start, size)
    _check_nodes(hashes, start, size)
    body = Checkpoint(log.origin, size, root).body
    signed = LogCheckpoint(
        size=size, root=root, note=notes.sign_note(body, log.origin, log.key), signed_at=now
    )
    session.add(signed)
    session.flush()
    return signed


def _check_leaves(session: Session, start: int, end: int) -> None:
    """Every leaf since the last checkpoint hashes to its stored leaf hash."""
    stored = dict(
        session.execute(
            select(LogHash.index, LogHash.hash).where(
                LogHash.level == 0, LogHash.index >= start, LogHash.index < end
            )
        ).all()
    )
    for index, data in session.execute(
        select(LogEntry.index, LogEntry.data).where(LogEntry.index >= start, LogEntry.index < end)
    ):
        if stored.get(index) != merkle.leaf_hash(data):
            raise LogCorrupted(f"leaf {index} does not hash to its stored hash")
    if len(stored) != end - start:
        raise LogCorrupted("leaves are missing from the log")


def _check_nodes(hashes: store.StoredHashes, start: int, end: int) -> None:
    """Every stored subtree over a new leaf is the hash of its two children.

    Together with the leaf check and the consistency proof (which binds the
    older subtrees to the last signed root), no stored hash the new checkpoint
    rests on can have been altered.
    """
    level = 1
    while (1 << level) <= end:
        width = 1 << level
        first = start // width
        for index in range(first, end // width):
            try:
                expected = merkle.node_hash(
                    hashes(level - 1, 2 * index), hashes(level - 1, 2 * index + 1)
                )
                stored = hashes(level, index)
            except merkle.ProofError as exc:
                raise LogCorrupted(f"the log's hashes are incomplete: {exc}") from exc
            if stored != expected:
                raise LogCorrupted(
                    f"the stored subtree ({level}, {index}) is not its children's hash"
                )
        level += 1


def add_cosignature(
    session: Session,
    checkpoint: LogCheckpoint,
    witness: Verifier,
    lines: Sequence[str],
    now: datetime,
) -> bool:
    """Keep a witness's cosignature if it verifies over ``checkpoint``; return whether it did."""
    for line in lines:
        try:
            notes.verify_note(checkpoint.note + line, [witness])
        except notes.NoteError:
            continue
        found = session.get(LogCosignature, (checkpoint.size, witness.name))
        if found is None:
            session.add(
                LogCosignature(
                    size=checkpoint.size, witness=witness.name, line=line, received_at=now
                )
            )
        return True
    return False


@dataclass(frozen=True)
class Witness:
    """A witness the register asks for cosignatures: its key and its submission URL."""

    verifier: Verifier
    url: str

    @classmethod
    def parse(cls, value: str) -> Witness:
        """``<vkey>|<https URL of the add-checkpoint prefix>``."""
        vkey, sep, url = value.strip().partition("|")
        if not sep or not url.startswith(("http://", "https://")):
            raise notes.NoteError(f"a witness is 'vkey|URL', not {value[:80]!r}")
        return cls(Verifier.parse(vkey), url.rstrip("/"))


def request_body(old: int, proof: Sequence[bytes], note: str) -> bytes:
    """The C2SP tlog-witness add-checkpoint body: old size, proof lines, blank, checkpoint."""
    lines = [f"old {old}", *(base64_line(p) for p in proof), ""]
    return ("\n".join(lines) + "\n" + note).encode()


def base64_line(value: bytes) -> str:
    return base64.b64encode(value).decode()


def log_proof(
    session: Session, index: int | None, vkey: str, at: LogCheckpoint | None = None
) -> LogProof:
    """The verifier's proof material for leaf ``index``, under checkpoint ``at`` (or the latest)."""
    found = at or latest(session)
    if index is None or found is None:
        return LogProof(index, vkey=vkey)
    note = found.note
    if found.size <= index:
        return LogProof(index, checkpoint=note, vkey=vkey)
    leaf = session.get(LogEntry, index)
    return LogProof(
        index,
        note,
        leaf.data if leaf is not None else None,
        tuple(store.inclusion(session, index, found.size)),
        vkey,
    )
