"""Trust material and status sources handed to ``verify``: never read from files here."""

from __future__ import annotations

import base64
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
class LogProof:
    """What a register hands over to show a certificate's leaf in its public log.

    Nothing here is trusted: the ``public_log`` rule checks the checkpoint's
    signature against ``vkey``, the leaf against the file and the proof against
    the checkpoint. ``error`` says why the material could not be had.
    """

    index: int | None
    #: The signed checkpoint note, as the log serves it.
    checkpoint: str | None = None
    #: The leaf's bytes at ``index``.
    leaf: bytes | None = None
    #: The RFC 9162 inclusion proof of the leaf in the checkpoint's tree.
    proof: tuple[bytes, ...] = ()
    #: The log's verifier key (C2SP signed-note vkey) the checkpoint must be signed by.
    vkey: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The form an offline bundle carries (without the shared checkpoint and key)."""
        return {
            "index": self.index,
            "leaf": base64.b64encode(self.leaf or b"").decode(),
            "proof": [base64.b64encode(h).decode() for h in self.proof],
        }


@dataclass(frozen=True)
class StatusAnswer:
    status: CertificateStatus
    #: Whether the register holds a certificate whose file digest matches.
    bound: bool
    #: "live" for a registry lookup, "offline" for a signed status list.
    source: str
    as_of: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)
    #: The certificate's leaf in the public log, when the source can show it.
    log: LogProof | None = None


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
    #: The bundle's log proofs, by certificate number (all under one checkpoint).
    log: Mapping[str, LogProof] = field(default_factory=dict)

    def lookup(
        self, certificate_number: str, digests: Iterable[str], claims: QrClaims | None = None
    ) -> StatusAnswer | None:
        now = self.now or datetime.now(UTC)
        as_of = self.status_list.as_of
        if claims is None or claims.status_list_index is None:
            return None
        log = self.log.get(certificate_number)
        if now - as_of > self.max_age:
            return StatusAnswer(
                CertificateStatus.UNKNOWN,
                False,
                "offline",
                as_of,
                {"stale": True, "age_days": (now - as_of).days},
                log,
            )
        status = self.status_list.status_at(claims.status_list_index)
        if (
            status is CertificateStatus.CURRENT
            and claims.valid_until < now.astimezone(BANGKOK).date()
        ):
            status = CertificateStatus.EXPIRED
        return StatusAnswer(
            status, False, "offline", as_of, {"index": claims.status_list_index}, log
        )


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


def fetch_log_vkey(registry: str, timeout: float = 10.0) -> str:
    """The register's log verifier key (``/pki/log.vkey``), for a verifier with no bundle.

    Read over the same connection as the answers it checks: it proves the log
    has not been rewritten since, not who runs the register. Pin the key with
    a bundle for that.
    """
    from .errors import VerifierError
    from .notes import NoteError, Verifier

    try:
        text = _get(f"{check_registry_url(registry)}/pki/log.vkey", timeout, "text/plain")
        return Verifier.parse(text.decode("ascii")).vkey()
    except (OSError, ValueError, NoteError) as exc:
        raise VerifierError(f"cannot read the log key from {registry}: {exc}") from exc


def fetch_log_proof(registry: str, index: int, vkey: str | None, timeout: float = 10.0) -> LogProof:
    """The checkpoint, the leaf at ``index`` and its inclusion proof, over HTTP.

    Reads the C2SP tlog-tiles entry bundle that holds the leaf, so any mirror
    of the tiles would do. Any failure is an ``error``, never an exception.
    """
    import binascii
    import json
    from urllib.parse import urlencode

    from . import merkle
    from .notes import Checkpoint, NoteError, parse_note

    base = check_registry_url(registry)
    try:
        note = _get(f"{base}/log/checkpoint", timeout, "text/plain").decode()
        size = Checkpoint.parse(parse_note(note).text).size
        if size <= index:
            return LogProof(index, checkpoint=note, vkey=vkey)
        tile = index // merkle.TILE_WIDTH
        width = merkle.tile_width(0, tile, size)
        path = merkle.tile_path(tile) + ("" if width == merkle.TILE_WIDTH else f".p/{width}")
        entries = list(merkle.read_bundle(_get(f"{base}/log/tile/entries/{path}", timeout, "*/*")))
        leaf = entries[index % merkle.TILE_WIDTH]
        query = urlencode({"index": index, "size": size})
        answer = json.loads(_get(f"{base}/log/proof/inclusion?{query}", timeout, "*/*"))
        proof = tuple(base64.b64decode(h, validate=True) for h in answer["proof"])
    except (OSError, ValueError, NoteError, KeyError, TypeError, IndexError, binascii.Error) as exc:
        return LogProof(index, vkey=vkey, error=f"the log at {registry} did not answer: {exc}")
    return LogProof(index, note, leaf, proof, vkey)


@dataclass(frozen=True)
class RemoteStatusSource:
    """Live status from a register's JSON API (``accredit verify --registry URL``).

    A register that cannot be reached gives status ``unknown`` with the reason,
    never a verdict about the document: "could not check" is not "failed".
    """

    registry: str
    timeout: float = 10.0
    #: The log key that checkpoints must be signed by; None skips the log proof.
    log_vkey: str | None = None

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
        index = answer["certificate"].get("log_index")
        log = None
        if self.log_vkey is not None:
            log = (
                fetch_log_proof(self.registry, index, self.log_vkey, self.timeout)
                if isinstance(index, int) and not isinstance(index, bool) and index >= 0
                else LogProof(None, vkey=self.log_vkey)
            )
        return StatusAnswer(status, bool(recorded & set(digests)), "live", as_of, answer, log)


def bundle_log(section: Any) -> dict[str, LogProof]:
    """The log proofs of an offline bundle's ``log`` section, by certificate number."""
    import binascii

    from .errors import VerifierError

    if section is None:
        return {}
    try:
        vkey, checkpoint = section["vkey"], section["checkpoint"]
        return {
            str(number): LogProof(
                int(item["index"]),
                str(checkpoint),
                base64.b64decode(item["leaf"], validate=True),
                tuple(base64.b64decode(h, validate=True) for h in item["proof"]),
                str(vkey),
            )
            for number, item in section["certificates"].items()
        }
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
        raise VerifierError(f"the trust bundle's log section cannot be read: {exc}") from exc


def load_bundle(
    data: bytes, *, max_age: timedelta = timedelta(days=7), now: datetime | None = None
) -> tuple[TrustBundle, OfflineStatusSource | None]:
    """Read an offline bundle made by ``accredit trust export``."""
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
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise VerifierError(f"the trust bundle cannot be read: {exc}") from exc
    log = bundle_log(bundle.get("log"))
    if not raw_list:
        return trust, None
    status_list = decode_status_list(base64.b64decode(raw_list), keys)
    return trust, OfflineStatusSource(status_list, max_age, now, log)
