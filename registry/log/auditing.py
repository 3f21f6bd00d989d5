"""What an auditor runs: rebuild the tree from the entries and hold it to the signatures.

``audit`` needs only the checkpoint note, the entries and the keys to trust:
it works against a register over HTTP (``fetch_remote``) as well as inside an
instance. It checks the log's signature, the witnesses' cosignatures (k of n),
that the entries hash to the signed root, and that the tree extends the
checkpoint saved by the previous run. The first problem wins, and names the
first index it concerns where there is one.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from verifier import merkle, notes
from verifier.merkle import TILE_WIDTH
from verifier.notes import Checkpoint, NoteError, Verifier

TIMEOUT = 20.0
MAX_BUNDLE = 256 * (2 + 65_535)


class AuditFailed(Exception):
    """The log does not hold up; ``index`` is the first leaf concerned, when known."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class Audited:
    checkpoint: Checkpoint
    note: str
    witnesses: tuple[str, ...]


def level_hashes(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every perfect subtree's hash, level by level, from the leaf hashes."""
    levels = [list(leaf_hashes)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [merkle.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        )
    return levels


def root_of(levels: list[list[bytes]], size: int) -> bytes:
    def hashes(level: int, index: int) -> bytes:
        return levels[level][index]

    return merkle.root_hash(hashes, size)


def audit(
    note: str,
    entries: Iterable[bytes],
    *,
    log: Verifier,
    witnesses: Sequence[Verifier] = (),
    require: int = 0,
    saved: str | None = None,
    stored_leaf_hashes: Sequence[bytes] | None = None,
) -> Audited:
    """Check ``note`` and ``entries`` as described above; raise ``AuditFailed`` otherwise."""
    try:
        parsed, signers = notes.verify_note(note, [log, *witnesses])
    except NoteError as exc:
        raise AuditFailed(f"the checkpoint's signature: {exc}") from exc
    if log not in signers:
        raise AuditFailed("the checkpoint is not signed by the log's key")
    cosigned = tuple(sorted(v.name for v in signers if v is not log))
    if len(cosigned) < require:
        raise AuditFailed(f"{len(cosigned)} of the {require} witness cosignatures required")
    checkpoint = Checkpoint.parse(parsed.text)
    if checkpoint.origin != log.name:
        raise AuditFailed(f"the checkpoint is for {checkpoint.origin!r}, not {log.name!r}")
    hashes = [merkle.leaf_hash(e) for e in entries]
    if len(hashes) != checkpoint.size:
        raise AuditFailed(
            f"the log has {len(hashes)} entries; its checkpoint says {checkpoint.size}",
            min(len(hashes), checkpoint.size),
        )
    if stored_leaf_hashes is not None:
        for index, (mine, theirs) in enumerate(zip(hashes, stored_leaf_hashes, strict=False)):
            if mine != theirs:
                raise AuditFailed(f"entry {index} does not hash to its stored leaf hash", index)
    levels = level_hashes(hashes) if hashes else [[]]
    if root_of(levels, checkpoint.size) != checkpoint.root:
        raise AuditFailed("the entries do not hash to the signed root")
    if saved:
        try:
            old_text = notes.verify_note(saved, [log])[0].text
        except NoteError as exc:
            raise AuditFailed(f"the saved checkpoint: {exc}") from exc
        old = Checkpoint.parse(old_text)
        if old.size > checkpoint.size:
            raise AuditFailed(
                f"the log shrank: it had {old.size} entries at the last run, now {checkpoint.size}",
                checkpoint.size,
            )
        if old.size and root_of(levels, old.size) != old.root:
            raise AuditFailed(
                f"the log was rewritten since the last run, within its first {old.size} entries"
            )
    return Audited(checkpoint, note, cosigned)


# --- a register over HTTP -------------------------------------------------------------


def _get(url: str, limit: int) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.read(limit + 1)[:limit]
    except (urllib.error.URLError, OSError) as exc:
        raise AuditFailed(f"cannot fetch {url}: {exc}") from exc


def fetch_remote(base: str) -> tuple[str, list[bytes]]:
    """The checkpoint and every entry it covers, from a register's ``/log`` tiles."""
    base = base.rstrip("/")
    note = _get(f"{base}/log/checkpoint", 1 << 20).decode()
    try:
        size = Checkpoint.parse(notes.parse_note(note).text).size
    except NoteError as exc:
        raise AuditFailed(f"the checkpoint cannot be read: {exc}") from exc
    entries: list[bytes] = []
    for index in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, size - index * TILE_WIDTH)
        suffix = "" if width == TILE_WIDTH else f".p/{width}"
        data = _get(f"{base}/log/tile/entries/{merkle.tile_path(index)}{suffix}", MAX_BUNDLE)
        try:
            bundle = list(merkle.read_bundle(data))
        except merkle.ProofError as exc:
            raise AuditFailed(str(exc), index * TILE_WIDTH) from exc
        if len(bundle) != width:
            raise AuditFailed(
                f"entry bundle {index} holds {len(bundle)} entries, not {width}", index * TILE_WIDTH
            )
        entries += bundle
    return note, entries


def fetch_vkey(base: str) -> str:
    return _get(f"{base.rstrip('/')}/pki/log.vkey", 4096).decode().strip()


def describe(result: Audited) -> str:
    return json.dumps(
        {
            "origin": result.checkpoint.origin,
            "size": result.checkpoint.size,
            "witnesses": list(result.witnesses),
        }
    )
