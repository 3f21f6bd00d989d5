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
    """Agency trust anchors (roots), the public QR keys (a JWK set) and the current CRLs.

    The CRLs are the agency's word now on its own certificates
    (``verifier.revocation``); without them only the file's own revocation
    data is consulted.
    """

    anchors: tuple[x509.Certificate, ...]
    qr_keys: Mapping[str, Any] = field(default_factory=lambda: {"keys": []})
    crls: tuple[x509.CertificateRevocationList, ...] = ()

    @classmethod
    def from_pem(
        cls,
        pems: Iterable[bytes],
        qr_keys: Mapping[str, Any] | None = None,
        crls: Iterable[bytes] = (),
    ) -> TrustBundle:
        """Anchors from PEM, CRLs from DER (as ``/pki/<ca>.crl`` serves them)."""
        anchors: list[x509.Certificate] = []
        for pem in pems:
            anchors.extend(x509.load_pem_x509_certificates(pem))
        return cls(
            tuple(anchors),
            qr_keys or {"keys": []},
            tuple(x509.load_der_x509_crl(der) for der in crls),
        )

    def adding(self, other: TrustBundle) -> TrustBundle:
        """This bundle with the anchors and CRLs of ``other`` (``--trust`` files)."""
        return TrustBundle(self.anchors + other.anchors, self.qr_keys, self.crls + other.crls)


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


#: A register's answer is small; anything larger is refused unread.
MAX_ANSWER = 1024 * 1024


def _get(url: str, timeout: float, accept: str) -> bytes:
    from urllib.request import Request, urlopen

    request = Request(url, headers={"Accept": accept, "User-Agent": "accredit-verify"})
    with urlopen(request, timeout=timeout) as response:
        data: bytes = response.read(MAX_ANSWER + 1)
    if len(data) > MAX_ANSWER:
        raise ValueError("the answer is too large")
    return data


def _get_json(url: str, timeout: float) -> Any:
    import json

    return json.loads(_get(url, timeout, "application/json"))


def check_registry_url(url: str) -> str:
    from urllib.parse import urlsplit

    from .errors import VerifierError

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise VerifierError(f"the registry must be an http(s) URL, not {url[:80]!r}")
    return url.rstrip("/")


def fetch_qr_keys(registry: str, timeout: float = 10.0) -> Mapping[str, Any]:
    """The register's public QR keys (``/pki/jwks.json``) for a verifier with no instance."""
    from .errors import VerifierError

    try:
        keys = _get_json(f"{check_registry_url(registry)}/pki/jwks.json", timeout)
    except (OSError, ValueError) as exc:
        raise VerifierError(f"cannot read the QR keys from {registry}: {exc}") from exc
    if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
        raise VerifierError(f"{registry}/pki/jwks.json is not a JWK set")
    return keys


def fetch_crls(registry: str, timeout: float = 10.0) -> tuple[bytes, ...]:
    """The register's current CRLs (``/pki/root.crl``, ``/pki/issuing.crl``), in DER.

    Their signatures are checked against the trust anchors when used, so a
    wrong answer can only make a signature fail, never pass.
    """
    from .errors import VerifierError

    found = []
    for ca in ("root", "issuing"):
        url = f"{check_registry_url(registry)}/pki/{ca}.crl"
        try:
            der = _get(url, timeout, "application/pkix-crl")
            x509.load_der_x509_crl(der)
        except (OSError, ValueError) as exc:
            raise VerifierError(f"cannot read the CRL {url}: {exc}") from exc
        found.append(der)
    return tuple(found)


@dataclass(frozen=True)
class RemoteStatusSource:
    """Live status from a register's JSON API (``accredit verify --registry URL``).

    A register that cannot be reached gives status ``unknown`` with the reason,
    never a verdict about the document: "could not check" is not "failed".
    """

    registry: str
    timeout: float = 10.0

    def lookup(
        self, certificate_number: str, digests: Iterable[str], claims: QrClaims | None = None
    ) -> StatusAnswer | None:
        from urllib.error import HTTPError
        from urllib.parse import quote

        now = datetime.now(UTC)
        accreditation, _, revision = certificate_number.partition("/")
        url = (
            f"{check_registry_url(self.registry)}/api/v1/certificates/"
            f"{quote(accreditation, safe='')}/{quote(revision, safe='')}"
        )
        try:
            answer = _get_json(url, self.timeout)
        except HTTPError as exc:
            if exc.code == 404:
                return None
            return StatusAnswer(CertificateStatus.UNKNOWN, False, "live", now, {"error": str(exc)})
        except (OSError, ValueError) as exc:
            reason = f"the register at {self.registry} did not answer: {exc}"
            return StatusAnswer(CertificateStatus.UNKNOWN, False, "live", now, {"error": reason})
        try:
            recorded = {
                answer["certificate"]["sha256"],
                answer["certificate"].get("served_sha256"),
            }
            status = CertificateStatus(answer["status"])
            as_of = datetime.fromisoformat(answer["checked_at"])
        except (KeyError, TypeError, ValueError) as exc:
            reason = f"the register's answer cannot be read: {exc}"
            return StatusAnswer(CertificateStatus.UNKNOWN, False, "live", now, {"error": reason})
        return StatusAnswer(status, bool(recorded & set(digests)), "live", as_of, answer)


def load_bundle(
    data: bytes, *, max_age: timedelta = timedelta(days=7), now: datetime | None = None
) -> tuple[TrustBundle, OfflineStatusSource | None]:
    """Read an offline bundle made by ``accredit trust export``."""
    import base64
    import binascii
    import json

    from .errors import VerifierError

    try:
        bundle = json.loads(data)
        anchors = [a.encode() for a in bundle["anchors"]]
        keys = bundle["qr_keys"]
        crls = [base64.b64decode(c, validate=True) for c in bundle.get("crls", [])]
        trust = TrustBundle.from_pem(anchors, keys, crls)
        raw_list = bundle.get("status_list")
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise VerifierError(f"the trust bundle cannot be read: {exc}") from exc
    if not raw_list:
        return trust, None
    status_list = decode_status_list(base64.b64decode(raw_list), keys)
    return trust, OfflineStatusSource(status_list, max_age, now)
