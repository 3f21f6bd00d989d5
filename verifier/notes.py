"""C2SP signed notes, checkpoints and cosignatures, with Ed25519 from ``cryptography``.

The rules that matter, each held by a test:

- a note's text ends at its *last* blank line; what follows are signature lines;
- a signature by an unknown key is ignored; a failing signature by a known key
  rejects the whole note;
- a key ID is the first 4 bytes of SHA-256(name || 0x0A || type || public key),
  with type 0x01 for note signatures and 0x04 for Ed25519 cosignatures;
- a cosignature signs ``cosignature/v1``, ``time <t>`` and the checkpoint body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .merkle import HASH_SIZE

NOTE_ALG = 0x01
COSIGNATURE_ALG = 0x04
DASH = "\u2014"
MAX_NOTE = 1 << 20


class NoteError(ValueError):
    """A note that cannot be used; the message says why."""


def raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, key: Ed25519PublicKey, alg: int = NOTE_ALG) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + raw(key)).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A known key: a name, its type, and the Ed25519 public key."""

    name: str
    key: Ed25519PublicKey
    alg: int = NOTE_ALG

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.key, self.alg)

    def vkey(self) -> str:
        """The signed-note verifier key string: ``name+hex(id)+base64(alg || key)``."""
        material = base64.b64encode(bytes([self.alg]) + raw(self.key)).decode()
        return f"{self.name}+{self.id.hex()}+{material}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        try:
            name, hex_id, encoded = vkey.strip().split("+", 2)
            data = base64.b64decode(encoded, validate=True)
            found = cls(name, Ed25519PublicKey.from_public_bytes(data[1:]), data[0])
        except (ValueError, binascii.Error, IndexError) as exc:
            raise NoteError(f"not a verifier key: {vkey[:80]!r}") from exc
        if found.alg not in (NOTE_ALG, COSIGNATURE_ALG) or found.id.hex() != hex_id:
            raise NoteError(f"the verifier key {name!r} does not match its key ID")
        _check_name(name)
        return found


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"{name!r} cannot be a key name")


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """``text`` (which ends in a newline) signed: the note as served."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("a note's text ends with one newline and holds no blank line")
    _check_name(name)
    signature = key_id(name, key.public_key()) + key.sign(text.encode())
    return f"{text}\n{DASH} {name} {base64.b64encode(signature).decode()}\n"


@dataclass(frozen=True)
class Signature:
    name: str
    id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.id + self.signature).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]


def parse_note(data: str) -> Note:
    """Split a note at its last blank line into text and signature lines."""
    if len(data) > MAX_NOTE:
        raise NoteError("the note is too long")
    cut = data.rfind("\n\n")
    if cut < 0 or not data.endswith("\n"):
        raise NoteError("a note has a text, a blank line and signature lines")
    text, lines = data[: cut + 1], data[cut + 2 :]
    signatures = []
    for line in lines.split("\n")[:-1]:
        try:
            dash, name, encoded = line.split(" ")
            blob = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"not a signature line: {line[:80]!r}") from exc
        if dash != DASH or len(blob) < 5:
            raise NoteError(f"not a signature line: {line[:80]!r}")
        signatures.append(Signature(name, blob[:4], blob[4:]))
    if not signatures:
        raise NoteError("the note carries no signature")
    return Note(text, tuple(signatures))


def verify_note(data: str, known: list[Verifier]) -> tuple[Note, list[Verifier]]:
    """The note and the known keys that signed it; unknown signatures are ignored.

    Raises when a signature by a known key fails, or when no known key signed.
    """
    note = parse_note(data)
    by_id = {(v.name, v.id): v for v in known}
    signed: list[Verifier] = []
    for sig in note.signatures:
        verifier = by_id.get((sig.name, sig.id))
        if verifier is None:
            continue
        message = (
            note.text.encode()
            if verifier.alg == NOTE_ALG
            else _cosigned_message(note.text, sig.signature)
        )
        payload = sig.signature if verifier.alg == NOTE_ALG else sig.signature[8:]
        try:
            verifier.key.verify(payload, message)
        except InvalidSignature:
            raise NoteError(f"the signature by {sig.name} does not verify") from None
        signed.append(verifier)
    if not signed:
        raise NoteError("no known key signed the note")
    return note, signed


# --- checkpoints --------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    @property
    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash")
        origin, size, root = lines[0], lines[1], lines[2]
        if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError("the checkpoint size is not a decimal number")
        try:
            decoded = base64.b64decode(root, validate=True)
        except binascii.Error as exc:
            raise NoteError("the checkpoint root is not base64") from exc
        if len(decoded) != HASH_SIZE or not origin:
            raise NoteError("the checkpoint root is not a SHA-256 hash")
        return cls(origin, int(size), decoded)


# --- cosignatures (C2SP tlog-cosignature, Ed25519) -----------------------------------


def _cosigned_message(text: str, timestamped: bytes) -> bytes:
    if len(timestamped) != 8 + 64:
        raise NoteError("a cosignature is a timestamp and an Ed25519 signature")
    (timestamp,) = struct.unpack(">Q", timestamped[:8])
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


def cosign(text: str, name: str, key: Ed25519PrivateKey, at: datetime | None = None) -> Signature:
    """A witness's cosignature line over a checkpoint's body."""
    timestamp = int((at or datetime.now(UTC)).timestamp())
    signed = key.sign(f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode())
    return Signature(
        name, key_id(name, key.public_key(), COSIGNATURE_ALG), struct.pack(">Q", timestamp) + signed
    )


def cosignature_time(sig: Signature) -> datetime:
    (timestamp,) = struct.unpack(">Q", sig.signature[:8])
    return datetime.fromtimestamp(timestamp, UTC)
