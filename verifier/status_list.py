"""The signed status list (DESIGN section 6): two bits per certificate.

Values: 0 current, 1 suspended, 2 withdrawn, 3 superseded. Expiry needs no
entry: the QR payload carries the valid-until date. The list holds at least
131,072 entries so that its size says little, is zlib-compressed, and is
signed as a COSE_Sign1 (ES256, the agency's QR key). Verifiers fetch it whole,
so the agency cannot tell which certificate anyone checks.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cbor2
from cwt import COSE, COSEKey
from cwt.exceptions import CWTError

from .errors import VerifierError
from .report import CertificateStatus

MIN_ENTRIES = 131_072
MAX_ENTRIES = 1 << 26
CODES = {
    CertificateStatus.CURRENT: 0,
    CertificateStatus.PARTIALLY_SUSPENDED: 0,
    CertificateStatus.SUSPENDED: 1,
    CertificateStatus.WITHDRAWN: 2,
    CertificateStatus.SUPERSEDED: 3,
}
MEANINGS = {
    0: CertificateStatus.CURRENT,
    1: CertificateStatus.SUSPENDED,
    2: CertificateStatus.WITHDRAWN,
    3: CertificateStatus.SUPERSEDED,
}


class StatusListError(VerifierError):
    code = "status_list_invalid"


@dataclass(frozen=True)
class StatusList:
    issuer: str
    as_of: datetime
    bits: bytes
    size: int

    def status_at(self, index: int) -> CertificateStatus:
        if not 0 <= index < self.size:
            raise StatusListError(f"index {index} is outside the status list")
        byte, shift = divmod(index * 2, 8)
        return MEANINGS[(self.bits[byte] >> shift) & 0b11]


def pack(statuses: Mapping[int, CertificateStatus]) -> tuple[bytes, int]:
    size = max(MIN_ENTRIES, max(statuses, default=0) + 1)
    size = -(-size // 4) * 4
    bits = bytearray(size // 4)
    for index, status in statuses.items():
        code = CODES.get(status)
        if code is None:  # expired: derived from the QR payload, not listed
            continue
        byte, shift = divmod(index * 2, 8)
        bits[byte] |= code << shift
    return bytes(bits), size


def encode_status_list(
    statuses: Mapping[int, CertificateStatus],
    issuer: str,
    as_of: datetime,
    jwk: Mapping[str, Any],
) -> bytes:
    bits, size = pack(statuses)
    payload = cbor2.dumps(
        {"iss": issuer, "iat": int(as_of.timestamp()), "size": size, "bits": zlib.compress(bits, 9)}
    )
    key = COSEKey.from_jwk(dict(jwk))
    return COSE.new().encode_and_sign(payload, key, protected={1: -7, 4: str(jwk["kid"]).encode()})


def decode_status_list(data: bytes, keys: Mapping[str, Any]) -> StatusList:
    """Verify and unpack a status list; raises ``StatusListError`` with the reason."""
    try:
        message = cbor2.loads(data)
        value = message.value if isinstance(message, cbor2.CBORTag) else message
        protected = cbor2.loads(value[0])
        kid = protected.get(4, b"").decode()
    except (ValueError, TypeError, IndexError, AttributeError, cbor2.CBORDecodeError) as exc:
        raise StatusListError("the status list is damaged") from exc
    jwk = next((k for k in keys.get("keys", []) if k.get("kid") == kid), None)
    if jwk is None:
        raise StatusListError(f"the status list was signed with an unknown key ({kid})")
    try:
        payload = COSE.new().decode(
            data, COSEKey.from_jwk({k: v for k, v in jwk.items() if k != "d"})
        )
        content = cbor2.loads(payload)
        size = int(content["size"])
        if not 0 < size <= MAX_ENTRIES:
            raise StatusListError("the status list's size is implausible")
        # Bounded: a compressed bomb cannot expand beyond the declared size.
        bits = zlib.decompressobj().decompress(content["bits"], size // 4 + 1)
        as_of = datetime.fromtimestamp(int(content["iat"]), UTC)
    except CWTError as exc:
        raise StatusListError("the status list's signature does not verify") from exc
    except (KeyError, TypeError, ValueError, zlib.error, cbor2.CBORDecodeError) as exc:
        raise StatusListError("the status list's content is damaged") from exc
    if len(bits) * 4 < size:
        raise StatusListError("the status list is shorter than it claims")
    return StatusList(issuer=str(content.get("iss", "")), as_of=as_of, bits=bits, size=size)
