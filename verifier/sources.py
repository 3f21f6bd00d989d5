"""Trust material and status sources handed to ``verify``: never read from files here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cryptography import x509

from .report import CertificateStatus


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
    def lookup(self, certificate_number: str, digests: Iterable[str]) -> StatusAnswer | None:
        """The register's answer for this certificate, or None if it is unknown."""
        ...
