"""Trust material and status sources handed to ``verify``: never read from files here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from cryptography import x509

from .qr import QrClaims
from .report import CertificateStatus
from .status_list import StatusList, decode_status_list

BANGKOK = ZoneInfo("Asia/Bangkok")


@dataclass(frozen=True)
class TrustBundle:
    """Agency trust anchors (roots) and the public QR keys (a JWK set)."""

    anchors: tuple[x509.Certificate, ...]
    qr_keys: Mapping[str, Any] = field(default_factory=lambda: {"keys": []})

    @classmethod
    def from_pem(
        cls, pems: Iterable[bytes], qr_keys: Mapping[str, Any] | None = None
    ) -> TrustBundle:
        anchors: list[x509.Certificate] = []
        for pem in pems:
            anchors.extend(x509.load_pem_x509_certificates(pem))
        return cls(tuple(anchors), qr_keys or {"keys": []})


@dataclass(frozen=True)
class StatusAnswer:
    status: CertificateStatus
    #: Whether the register holds a certificate whose file digest matches.
    bound: bool
    #: "live" for a registry lookup, "offline" for a signed status list.
    source: str
    as_of: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)


class StatusSource(Protocol):
    def lookup(
        self, certificate_number: str, digests: Iterable[str], claims: QrClaims | None = None
    ) -> StatusAnswer | None:
        """The register's answer for this certificate, or None if it is unknown."""
        ...


@dataclass(frozen=True)
class OfflineStatusSource:
    """Status from a signed status list, "as of" its date; stale lists answer unknown."""

    status_list: StatusList
    max_age: timedelta = timedelta(days=7)
    now: datetime | None = None

    def lookup(
        self, certificate_number: str, digests: Iterable[str], claims: QrClaims | None = None
    ) -> StatusAnswer | None:
        now = self.now or datetime.now(UTC)
        as_of = self.status_list.as_of
        if claims is None or claims.status_list_index is None:
            return None
        if now - as_of > self.max_age:
            return StatusAnswer(
                CertificateStatus.UNKNOWN,
                False,
                "offline",
                as_of,
                {"stale": True, "age_days": (now - as_of).days},
            )
        status = self.status_list.status_at(claims.status_list_index)
        if (
            status is CertificateStatus.CURRENT
            and claims.valid_until < now.astimezone(BANGKOK).date()
        ):
            status = CertificateStatus.EXPIRED
        return StatusAnswer(status, False, "offline", as_of, {"index": claims.status_list_index})


def load_bundle(
    data: bytes, *, max_age: timedelta = timedelta(days=7), now: datetime | None = None
) -> tuple[TrustBundle, OfflineStatusSource | None]:
    """Read an offline bundle made by ``accredit trust export``."""
    import base64
    import json

    from .errors import VerifierError

    try:
        bundle = json.loads(data)
        anchors = [a.encode() for a in bundle["anchors"]]
        keys = bundle["qr_keys"]
        trust = TrustBundle.from_pem(anchors, keys)
        raw_list = bundle.get("status_list")
    except (ValueError, KeyError, TypeError) as exc:
        raise VerifierError(f"the trust bundle cannot be read: {exc}") from exc
    if not raw_list:
        return trust, None
    status_list = decode_status_list(base64.b64decode(raw_list), keys)
    return trust, OfflineStatusSource(status_list, max_age, now)
