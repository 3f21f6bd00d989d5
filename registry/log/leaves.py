"""What a leaf says: one public fact as deterministic bytes (leaf format version 1).

Version 1 is RFC 8785 canonical JSON (JCS) restricted to what leaves hold:
objects with ASCII keys, strings, integers, booleans, null and arrays; never
floats. For these types JCS is exactly: keys sorted, no insignificant
whitespace, UTF-8, and JSON's minimal string escapes, which is what
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` writes.
A leaf names its version (``"v": 1``); a later format gets a new number and
these bytes never change meaning.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

VERSION = 1
#: A leaf is at most this big: entry bundles length-prefix entries with 16 bits.
MAX_LEAF = 65_535


class LeafError(ValueError):
    """A value a leaf cannot hold (a float, a non-ASCII key, something too big)."""


def _check(value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) >= 2**53:
            raise LeafError("integers in leaves stay within 2**53 (JCS numbers)")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check(item)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise LeafError(f"leaf keys are ASCII strings, not {key!r}")
            _check(item)
        return
    raise LeafError(f"a leaf cannot hold a {type(value).__name__}")


def encode(fact: Mapping[str, Any]) -> bytes:
    """The canonical bytes of ``fact``, with its format version."""
    value = {"v": VERSION, **fact}
    _check(value)
    data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > MAX_LEAF:
        raise LeafError("the leaf is larger than 64 kB")
    return data


def decode(data: bytes) -> dict[str, Any]:
    value = json.loads(data)
    if not isinstance(value, dict) or value.get("v") != VERSION:
        raise LeafError("not a version 1 leaf")
    return value


def instant(at: datetime) -> str:
    """An aware instant as ``2026-12-01T09:21:37Z``."""
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def digest(*texts: str) -> str:
    """A SHA-256 of texts (one per line): what a leaf keeps of words it need not publish."""
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def scope_digest(items: Iterable[Mapping[str, Any]]) -> str:
    """A SHA-256 over scope lines, each in canonical JSON: what an extension brought in."""
    lines = sorted(
        json.dumps(dict(i), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        for i in items
    )
    return digest(*lines)


# --- the facts, one builder each -----------------------------------------------------
# Plain values in, a fact out: the same builder serves the write path, the
# backfill of older history and ``accredit log verify``, so they always agree.


def certificate_issued(
    *, number: str, accreditation: str, revision: int, sha256: str, signer: str
) -> dict[str, Any]:
    return {
        "type": "certificate.issued",
        "certificate": number,
        "accreditation": accreditation,
        "revision": revision,
        "sha256": sha256,
        "signer": signer,
    }


def certificate_refreshed(
    *, number: str, original: str, previous: str, served: str
) -> dict[str, Any]:
    return {
        "type": "certificate.refreshed",
        "certificate": number,
        "original": original,
        "previous": previous,
        "served": served,
    }


def status_decided(
    *,
    event: int,
    accreditation: str,
    kind: str,
    items: Iterable[int],
    effective: date,
    until: date | None,
    reason_en: str,
    reason_th: str,
    scope: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A decision: its event, what it names and when; its reasons as a digest only.

    For a scope change (``extended``, ``reduced``) the digest of the lines it
    names is kept too, so an edited scope line shows against the log.
    """
    fact: dict[str, Any] = {
        "type": "status.decided",
        "event": event,
        "accreditation": accreditation,
        "kind": kind,
        "items": sorted(items),
        "effective": day(effective),
        "until": day(until),
        "reasons_sha256": digest(reason_en, reason_th),
    }
    lines = list(scope)
    if lines:
        fact["scope_sha256"] = scope_digest(lines)
    return fact


def key_changed(
    *, kind: str, serial: str, fingerprint: str, reason: str | None = None
) -> dict[str, Any]:
    """A signing key rotated in (``key.rotated``) or revoked (``key.revoked``)."""
    return {"type": kind, "serial": serial, "fingerprint": fingerprint, "reason": reason}


def role_changed(*, grant: int, role: str, staff: int, granted: bool) -> dict[str, Any]:
    """The decision-maker role given or taken back, by its grant's id."""
    return {
        "type": "role.granted" if granted else "role.revoked",
        "grant": grant,
        "role": role,
        "staff": staff,
    }
