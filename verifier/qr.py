"""The signed QR payload printed on every certificate (DESIGN section 5).

Content: ``<PUBLIC URL IN CAPITALS>/V/<BASE32(COSE_Sign1)>``, without base32
padding, so that the whole URL fits the QR alphanumeric mode. The COSE_Sign1
is ES256 with the agency's QR key; the key ID (a short RFC 7638 thumbprint)
sits in the protected header, and the payload is a CBOR map with short text
keys, listed in ``CLAIM_KEYS``. This format is printed on paper: a test checks
it byte for byte against RFC 9052 without the ``cwt`` library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import cbor2
from cwt import COSE, COSEKey
from cwt.exceptions import CWTError

from .errors import QrBadSignature, QrTruncated, QrUnknownKey, QrWrongPrefix

#: Claim name -> CBOR map key. Frozen once certificates are printed.
CLAIM_KEYS = {
    "issuer": "iss",
    "certificate_number": "cn",
    "revision": "rv",
    "accreditation_number": "an",
    "cab_name": "cab",
    "standard": "std",
    "valid_until": "vu",
    "scope_digest": "sd",
    "status_list_index": "sl",
    "log_index": "ll",
}
ALG_ES256 = -7
HEADER_ALG, HEADER_KID = 1, 4
PATH_MARKER = "/V/"


@dataclass(frozen=True)
class QrClaims:
    issuer: str
    certificate_number: str
    revision: int
    accreditation_number: str
    cab_name: str
    standard: str
    valid_until: date
    #: First 16 bytes of SHA-256 over the canonical scope (see ``scope_digest``).
    scope_digest: bytes
    status_list_index: int | None
    log_index: int | None = None
    #: The key that signed it (filled in by ``decode_qr_payload``).
    kid: str | None = None

    def to_cbor_map(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in CLAIM_KEYS}
        values["valid_until"] = self.valid_until.isoformat()
        return {CLAIM_KEYS[name]: value for name, value in values.items()}

    @classmethod
    def from_cbor_map(cls, data: Mapping[str, Any], kid: str | None) -> QrClaims:
        try:
            claims = cls(
                issuer=str(data["iss"]),
                certificate_number=str(data["cn"]),
                revision=int(data["rv"]),
                accreditation_number=str(data["an"]),
                cab_name=str(data["cab"]),
                standard=str(data["std"]),
                valid_until=date.fromisoformat(data["vu"]),
                scope_digest=bytes(data["sd"]),
                status_list_index=None if data["sl"] is None else int(data["sl"]),
                log_index=None if data.get("ll") is None else int(data["ll"]),
                kid=kid,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise QrTruncated(f"the QR payload is incomplete or malformed: {exc}") from exc
        if len(claims.scope_digest) != 16:
            raise QrTruncated("the QR payload's scope digest is not 16 bytes")
        return claims


def scope_digest(items: Iterable[Mapping[str, Any]]) -> bytes:
    """16 bytes binding the printed scope: SHA-256 over sorted canonical JSON lines."""
    lines = sorted(json.dumps(dict(item), sort_keys=True, ensure_ascii=False) for item in items)
    return hashlib.sha256("\n".join(lines).encode()).digest()[:16]


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def _b32decode(token: str) -> bytes:
    token = token.strip().upper()
    return base64.b32decode(token + "=" * (-len(token) % 8))


def encode_qr_payload(claims: QrClaims, jwk: Mapping[str, Any], public_url: str) -> str:
    """Sign ``claims`` with the private JWK (it must carry ``kid``) and build the URL."""
    key = COSEKey.from_jwk(dict(jwk))
    kid = str(jwk["kid"]).encode()
    payload = cbor2.dumps(claims.to_cbor_map())
    message = COSE.new().encode_and_sign(
        payload, key, protected={HEADER_ALG: ALG_ES256, HEADER_KID: kid}
    )
    return f"{public_url.rstrip('/').upper()}{PATH_MARKER}{_b32encode(message)}"


def token_of(url_or_token: str) -> str:
    """The base32 token from a scanned URL (any case) or from the bare token."""
    text = url_or_token.strip()
    upper = text.upper()
    if "://" in text or "/" in text:
        marker = upper.rfind(PATH_MARKER)
        if marker < 0:
            raise QrWrongPrefix("this is not an accreditation certificate QR code (no /V/ path)")
        text = text[marker + len(PATH_MARKER) :]
    if not text:
        raise QrTruncated("the QR code holds no payload")
    return text


def decode_qr_payload(
    url_or_token: str, keys: Mapping[str, Any], *, expected_prefix: str | None = None
) -> QrClaims:
    """Verify a QR payload offline against a JWK set and return its claims.

    Raises a ``QrError`` subclass naming what is wrong: the prefix (when
    ``expected_prefix`` is given), a truncated or undecodable token, an unknown
    key ID, or a signature that does not verify.
    """
    if expected_prefix is not None:
        prefix = expected_prefix.rstrip("/").upper() + PATH_MARKER
        if not url_or_token.strip().upper().startswith(prefix):
            raise QrWrongPrefix(f"this QR code does not point at {expected_prefix}")
    token = token_of(url_or_token)
    try:
        raw = _b32decode(token)
        message = cbor2.loads(raw)
    except (binascii.Error, ValueError, cbor2.CBORDecodeError) as exc:
        raise QrTruncated("the QR payload is truncated or damaged") from exc
    value = message.value if isinstance(message, cbor2.CBORTag) else message
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise QrTruncated("the QR payload is not a COSE_Sign1 structure")
    try:
        protected = cbor2.loads(value[0]) if value[0] else {}
    except (ValueError, cbor2.CBORDecodeError, TypeError) as exc:
        raise QrTruncated("the QR payload's header is damaged") from exc
    kid_bytes = protected.get(HEADER_KID) if isinstance(protected, dict) else None
    kid = kid_bytes.decode(errors="replace") if isinstance(kid_bytes, bytes) else None
    jwk = next((k for k in keys.get("keys", []) if k.get("kid") == kid), None)
    if jwk is None:
        raise QrUnknownKey(f"the QR code was signed with an unknown key ({kid or 'no key ID'})")
    public = {k: v for k, v in jwk.items() if k != "d"}
    try:
        payload = COSE.new().decode(raw, COSEKey.from_jwk(public))
    except CWTError as exc:
        raise QrBadSignature("the QR code's signature does not verify") from exc
    try:
        data = cbor2.loads(payload)
    except (ValueError, cbor2.CBORDecodeError) as exc:
        raise QrTruncated("the QR payload's content is damaged") from exc
    if not isinstance(data, dict):
        raise QrTruncated("the QR payload's content is not a claims map")
    return QrClaims.from_cbor_map(data, kid)
