"""Library hot spots, replaced by equivalents that give the same answers faster.

Profiling the verification of a genuine certificate showed places where
most of the time went on work that is not about security at all:

- pyHanko reads a hex string (a signature's ``/Contents``, 16-32 kB of hex,
  mostly zero padding) one byte and one generator step at a time: about 8 ms
  of a 12 ms parse. ``read_hex_string`` takes the fast path only for a string
  made of hex digits and PDF whitespace; anything else (comments, bad bytes, a
  missing ``>``) goes to pyHanko's own reader, which gives its own answer or
  error, so a hostile string gets exactly the treatment it got before.
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
  never kept and is checked again every time.

``install()`` is idempotent; ``tests/verifier/test_hotspots.py`` proves the
replacements equal to the originals on generated inputs.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import re
from typing import Any, BinaryIO

from asn1crypto.x509 import NameTypeAndValue, RDNSequence
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

_original_hex = generic.read_hex_string_from_stream
_original_prep = NameTypeAndValue._ldap_string_prep
_original_name_eq = RDNSequence.__eq__
_original_hashable = RDNSequence.hashable.fget
_original_validate = DefaultSignatureValidator.validate_signature
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


def _validate_signature(
    self: DefaultSignatureValidator,
    signature: bytes,
    signed_data: bytes,
    public_key_info: Any,
    signature_algorithm: Any,
    context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
) -> None:
    """``DefaultSignatureValidator.validate_signature``; raises exactly as it does.

    The memo keeps a SHA-256 over every input (each length-prefixed): 32 bytes
    an entry, whatever a hostile upload sends.
    """
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
    _original_validate(self, signature, signed_data, public_key_info, signature_algorithm, context)
    if len(_verified) >= SIGNATURE_CACHE_ENTRIES:
        _verified.clear()
    _verified.add(key)
    return None


def install() -> None:
    generic.read_hex_string_from_stream = read_hex_string
    NameTypeAndValue._ldap_string_prep = _ldap_string_prep
    RDNSequence.__eq__ = _rdn_sequence_eq  # type: ignore[method-assign,assignment]
    DefaultSignatureValidator.validate_signature = _validate_signature  # type: ignore[method-assign]
    RDNSequence.hashable = property(_rdn_sequence_hashable)  # type: ignore[method-assign,assignment]
