"""Library speed-ups: equivalents that give the same answers faster, switched on explicitly.

Nothing here changes pyHanko or asn1crypto when it is imported. An entry
point (the registry's app factory and CLI, ``make bench``) calls
``enable(on)`` once, with ``on`` taken from its own configuration (the
registry's ``ACCREDIT_SPEEDUPS`` setting): this module reads no environment
variable and no configuration of its own. ``disable()`` puts the libraries'
own code back (for tests, and to measure cold against warm).

``enable`` installs only on the library versions the replacements were
proven equal on (``PROVEN``); on any other version it installs nothing and
warns, naming the version it found. ``tests/verifier/test_speedups.py``
proves the replacements equal to the originals on generated inputs.

Profiling the verification of a genuine certificate showed places where
most of the time went on work that is not about security at all:

- pyHanko reads a hex string (a signature's ``/Contents``, 16-32 kB of hex,
  mostly zero padding) one byte and one generator step at a time: about 8 ms
  of a 12 ms parse. ``read_hex_string`` takes the fast path only for a string
  made of hex digits and PDF whitespace; anything else (comments, bad bytes, a
  missing ``>``) goes to pyHanko's own reader, which gives its own answer or
  error, so a hostile string gets exactly the treatment it got before.
- Every name, number and object header is read the same way, by
  ``misc._read_until_class``: a generator step and a ``read(1)`` per byte.
  After the tagged layout (a structure tree: some 340 objects a certificate,
  each read again per revision by the diff analysis) it is most of the parse;
  measured cold against this replacement in one process, a verification took
  about a tenth less (the profiler, which bills every generator step, had
  said a third). ``read_until_class`` reads a chunk and finds the first byte of
  the class with one regular expression; it leaves the stream where pyHanko's
  loop leaves it (just past that byte, or at the limit or the end) and returns
  the same bytes and the same end-of-stream flag.
- asn1crypto prepares a name's strings (RFC 4518) anew for every parsed
  certificate, and pyHanko compares names hundreds of times per document:
  about a fifth of all the time. The preparation is a pure function of the
  string, so short strings are memoised (an error is never cached, and the
  cache is bounded in entries and in string length). Name equality itself is
  a pure function of the two names' DER, so it is memoised the same way.
- pyHanko checks the same certificate, CRL and OCSP signatures again for
  every document (each carries the agency's chain). Whether a signature
  verifies is a pure function of (signature, data, key, algorithm), so a
  success is memoised under a SHA-256 of exactly those bytes; a failure is
  never kept and is checked again every time. This one is not patched in:
  ``signature_validator()`` gives the validator that a validation policy
  passes to pyhanko-certvalidator through its own hook
  (``CertValidationPolicySpec(signature_validator=...)``, or
  ``ValidationContext(signature_validator=...)``).
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import re
import warnings
from importlib import metadata
from typing import Any, BinaryIO

from asn1crypto.x509 import NameTypeAndValue, RDNSequence
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.misc import PDF_WHITESPACE
from pyhanko_certvalidator.context import ValidationContext
from pyhanko_certvalidator.revinfo import validate_ocsp
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

#: Distribution name: (lowest proven version, first version not proven).
PROVEN: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "pyHanko": ((0, 38), (0, 39)),
    "pyhanko-certvalidator": ((0, 33), (0, 34)),
    "asn1crypto": ((1, 5, 1), (1, 6)),
}

_original_hex = generic.read_hex_string_from_stream
_original_until_class = misc._read_until_class
_original_prep = NameTypeAndValue._ldap_string_prep
_original_name_eq = RDNSequence.__eq__
_original_hashable = RDNSequence.hashable.fget
_PLAIN_HEX = re.compile(rb"[0-9A-Fa-f" + re.escape(PDF_WHITESPACE) + rb"]*")
_CHUNK = 1 << 16
#: Longer strings and names are prepared and compared every time (no hostile one is kept).
PREP_CACHE_MAX_LENGTH = 256
NAME_CACHE_MAX_BYTES = 1024


def read_hex_string(stream: BinaryIO) -> generic.ByteStringObject | generic.TextStringObject:
    """``generic.read_hex_string_from_stream``, without a generator step per byte."""
    start = stream.tell()
    stream.read(1)  # the opening "<"
    parts: list[bytes] = []
    size = 256  # most hex strings are short (IDs); /Contents grows the reads
    while True:
        chunk = stream.read(size)
        end = chunk.find(b">")
        if end < 0:
            parts.append(chunk)
            if chunk and _PLAIN_HEX.fullmatch(chunk):
                size = min(size * 4, _CHUNK)
                continue
            break  # end of stream or an unusual byte: pyHanko's reader decides
        body = b"".join([*parts, chunk[:end]])
        if not _PLAIN_HEX.fullmatch(body):
            break
        stream.seek(start + 1 + len(body) + 1)
        digits = body.translate(None, PDF_WHITESPACE)
        if len(digits) % 2:
            digits += b"0"
        return generic.pdf_string(binascii.unhexlify(digits))
    stream.seek(start)
    return _original_hex(stream)


#: Bytes read per step: names and numbers are short, so most tokens take one read.
_TOKEN_CHUNK = 64
_class_runs: dict[bytes, re.Pattern[bytes]] = {}


def read_until_class(
    class_chars: bytes, stream: BinaryIO, maxchars: int | None = None
) -> tuple[bytes, bool]:
    """``misc._read_until_class``: the bytes before the first of ``class_chars``, and EOF.

    As pyHanko's loop does, it consumes that first byte of the class, stops after
    ``maxchars`` bytes without consuming more, and says ``True`` only when the
    stream ended first.
    """
    if maxchars is not None and maxchars <= 0:
        return _original_until_class(class_chars, stream, maxchars)  # its own odd answer
    run = _class_runs.get(class_chars)
    if run is None:
        run = _class_runs[class_chars] = re.compile(b"[^" + re.escape(class_chars) + b"]*")
    parts: list[bytes] = []
    left = maxchars
    while left is None or left > 0:
        size = _TOKEN_CHUNK if left is None else min(_TOKEN_CHUNK, left)
        chunk = stream.read(size)
        if not chunk:
            return b"".join(parts), True
        taken = run.match(chunk).end()  # type: ignore[union-attr]  # [^...]* always matches
        if taken < len(chunk):
            stream.seek(taken + 1 - len(chunk), 1)  # just past the byte of the class
            parts.append(chunk[:taken])
            return b"".join(parts), False
        parts.append(chunk)
        if left is not None:
            left -= len(chunk)
    return b"".join(parts), False


@functools.lru_cache(maxsize=4096)
def _prepared(string: str) -> str:
    return _original_prep(None, string)


def _ldap_string_prep(self: Any, string: str) -> str:
    if len(string) > PREP_CACHE_MAX_LENGTH:
        return _original_prep(self, string)
    return _prepared(string)


_names_equal: dict[tuple[bytes, bytes], bool] = {}
NAME_CACHE_ENTRIES = 4096


def _rdn_sequence_eq(self: RDNSequence, other: object) -> bool:
    """``RDNSequence.__eq__`` (which ``Name.__eq__`` calls), memoised on the DER contents."""
    if not isinstance(other, RDNSequence):
        return False
    key = (self.contents or b"", other.contents or b"")
    if len(key[0]) > NAME_CACHE_MAX_BYTES or len(key[1]) > NAME_CACHE_MAX_BYTES:
        return bool(_original_name_eq(self, other))
    found = _names_equal.get(key)
    if found is None:
        found = bool(_original_name_eq(self, other))  # an error is raised, never kept
        if len(_names_equal) >= NAME_CACHE_ENTRIES:
            _names_equal.clear()
        _names_equal[key] = found
    return found


_hashables: dict[bytes, str] = {}


def _rdn_sequence_hashable(self: RDNSequence) -> str:
    """``RDNSequence.hashable`` (the key of every certificate store), memoised on the DER."""
    contents = self.contents or b""
    if len(contents) > NAME_CACHE_MAX_BYTES:
        return str(_original_hashable(self))
    found = _hashables.get(contents)
    if found is None:
        found = str(_original_hashable(self))
        if len(_hashables) >= NAME_CACHE_ENTRIES:
            _hashables.clear()
        _hashables[contents] = found
    return found


_verified: set[bytes] = set()
SIGNATURE_CACHE_ENTRIES = 4096


class MemoisingSignatureValidator(DefaultSignatureValidator):
    """``DefaultSignatureValidator`` that remembers the signatures that verified.

    It raises exactly as the default does. The memo keeps a SHA-256 over
    every input (each length-prefixed): 32 bytes an entry, whatever a hostile
    upload sends; it is bounded, and a failure is never kept.
    """

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: Any,
        signature_algorithm: Any,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        digest = hashlib.sha256()
        for part in (
            bytes(signature),
            bytes(signed_data),
            public_key_info.dump(),
            signature_algorithm.dump(),
            str(context.contextual_md_algorithm).encode(),
            b"prehashed" if context.prehashed else b"",
        ):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        key = digest.digest()
        if key in _verified:
            return None
        super().validate_signature(
            signature, signed_data, public_key_info, signature_algorithm, context
        )
        if len(_verified) >= SIGNATURE_CACHE_ENTRIES:
            _verified.clear()
        _verified.add(key)
        return None


_MEMOISING = MemoisingSignatureValidator()


class _ResponderContext(ValidationContext):
    """The context pyhanko-certvalidator builds for an ``id-pkix-ocsp-nocheck`` responder.

    ``validate_ocsp`` validates such a responder's certificate (the agency's
    OCSP certificate carries the extension) in a ``ValidationContext`` of its
    own, made without the caller's signature validator, so the policy's hook
    does not reach that one signature check. This is the only path where the
    hook does not reach; ``enable`` points ``validate_ocsp``'s name (and no
    other) at this class, which gives the memoising validator when the
    caller named none.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("signature_validator") is None:
            kwargs["signature_validator"] = _MEMOISING
        super().__init__(*args, **kwargs)


# (owner, attribute, replacement); the originals are read from the owner at install time.
_REPLACEMENTS: tuple[tuple[Any, str, Any], ...] = (
    (generic, "read_hex_string_from_stream", read_hex_string),
    (misc, "_read_until_class", read_until_class),
    (NameTypeAndValue, "_ldap_string_prep", _ldap_string_prep),
    (RDNSequence, "__eq__", _rdn_sequence_eq),
    (RDNSequence, "hashable", property(_rdn_sequence_hashable)),
    # Only the path the signature-validator hook does not reach (see _ResponderContext).
    (validate_ocsp, "ValidationContext", _ResponderContext),
)
_MISSING = object()
#: What each replaced attribute was before ``enable`` (absent from ``vars``: inherited).
_saved: list[tuple[Any, str, Any]] = []


def _installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _release(version: str) -> tuple[int, ...] | None:
    """``"0.38.0"`` as ``(0, 38)``; None for anything but a plain release (``0.39.0rc1``)."""
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        return None
    numbers = [int(n) for n in version.split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def _dotted(numbers: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in numbers)


def proven_range(distribution: str) -> str:
    low, high = PROVEN[distribution]
    return f">={_dotted(low)},<{_dotted(high)}"


def unproven() -> list[tuple[str, str | None, str]]:
    """Each library outside its proven range: (name, installed version or None, range)."""
    found = []
    for distribution, (low, high) in PROVEN.items():
        version = _installed_version(distribution)
        release = _release(version) if version else None
        if release is None or not low <= release < high:
            found.append((distribution, version, proven_range(distribution)))
    return found


def active() -> bool:
    return bool(_saved)


def enable(on: bool = True) -> bool:
    """Install the speed-ups if ``on`` and the libraries are the proven versions.

    Idempotent. ``enable(False)`` installs nothing (and does not uninstall
    either; ``disable`` does). On a library version outside ``PROVEN`` it
    installs nothing and warns once per call. Returns ``active()``.
    """
    if not on or active():
        return active()
    outside = unproven()
    if outside:
        found = "; ".join(
            f"{name} {version or '(not installed)'} found, proven on {name}{proven}"
            for name, version, proven in outside
        )
        warnings.warn(f"verifier speed-ups not enabled: {found}", RuntimeWarning, stacklevel=2)
        return False
    for owner, name, replacement in _REPLACEMENTS:
        _saved.append((owner, name, vars(owner).get(name, _MISSING)))
        setattr(owner, name, replacement)
    return True


def disable() -> None:
    """Put the libraries' own code back, and forget everything memoised."""
    while _saved:
        owner, name, original = _saved.pop()
        if original is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
    _prepared.cache_clear()
    _names_equal.clear()
    _hashables.clear()
    _verified.clear()


def signature_validator() -> DefaultSignatureValidator:
    """The validator a validation policy should use: memoising while the speed-ups are on."""
    return _MEMOISING if active() else DefaultSignatureValidator()
