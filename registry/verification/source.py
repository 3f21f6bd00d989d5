"""The registry as a status source for the verifier (the live, online answer)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from io import BytesIO

from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlTimeoutError
from sqlalchemy.orm import Session

from keys.pki import Pki
from keys.revocation import CAS, current_crl
from verifier.report import CertificateStatus
from verifier.sources import StatusAnswer, TrustBundle

from ..certificates.answers import answer_for, find_certificate
from ..certificates.models import Blob
from ..db import Database
from ..log.checkpoints import log_proof
from ..pki.material import load_pki, log_key
from ..settings import Settings

#: What a database that is down or frozen raises (as the web layer's 503 knows it).
UNREACHABLE = (OperationalError, InterfaceError, DisconnectionError, SqlTimeoutError)
log = logging.getLogger(__name__)


class RegistryStatusSource:
    """Answers from the register's database, as of the moment of the lookup."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        now: datetime | None = None,
        log_vkey: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.now = now
        #: The log's verifier key: with it, each answer carries the certificate's log proof.
        self.log_vkey = log_vkey

    def lookup(
        self, certificate_number: str, digests: Iterable[str], claims: object = None
    ) -> StatusAnswer | None:
        now = self.now or datetime.now(UTC)
        try:
            return self._lookup(certificate_number, digests, now)
        except UNREACHABLE as exc:
            # Verification still runs: the signature checks need no database, and
            # the status is "could not be checked", never a verdict (DESIGN §4).
            reason = "the register's database did not answer"
            log.warning("%s: %s", reason, str(exc).strip().splitlines()[0][:300])
            return StatusAnswer(CertificateStatus.UNKNOWN, False, "live", now, {"error": reason})

    def _lookup(
        self, certificate_number: str, digests: Iterable[str], now: datetime
    ) -> StatusAnswer | None:
        with self.sessions() as session:
            cert = find_certificate(session, certificate_number)
            if cert is None:
                return None
            answer = answer_for(session, cert, now)
            recorded = {cert.sha256, cert.current_sha256}
            if not recorded & set(digests):
                recorded |= signed_revision_digests(session, cert.sha256)
            return StatusAnswer(
                status=answer.status,
                bound=bool(recorded & set(digests)),
                source="live",
                as_of=now,
                detail=answer.as_json(),
                log=(
                    log_proof(session, cert.log_index, self.log_vkey)
                    if self.log_vkey is not None
                    else None
                ),
            )


def signed_revision_digests(session: Session, sha256: str) -> set[str]:
    """SHA-256 of the signed revision inside the issued file (it survives LTA updates)."""
    blob = session.get(Blob, sha256)
    if blob is None:
        return set()
    reader = PdfFileReader(BytesIO(blob.data), strict=False)
    return {
        hashlib.sha256(blob.data[: s.byte_range[2] + s.byte_range[3]]).hexdigest()
        for s in reader.embedded_signatures
        if s.sig_object_type == "/Sig"
    }


def agency_trust(pki: Pki, extra_anchors: tuple[bytes, ...] = ()) -> TrustBundle:
    """The agency's own trust material: its root, its QR keys and its current CRLs."""
    return TrustBundle.from_pem(
        [pki.root.public_bytes(serialization.Encoding.PEM), *extra_anchors],
        pki.qr_jwks(),
        [current_crl(pki, ca) for ca in CAS],
    )


def instance_context(
    settings: Settings,
    extra_anchors: tuple[bytes, ...] = (),
    use_registry: bool = True,
    timeout: int | None = None,
) -> tuple[TrustBundle, RegistryStatusSource | None]:
    """Trust and status for ``accredit verify`` inside an instance (picklable for workers).

    ``timeout`` is a web request's database budget, for the verification processes
    behind ``/verify``: a frozen database then makes the status "unknown" within
    it, instead of holding the upload until its time runs out.
    """
    pki = load_pki(settings)
    trust = agency_trust(pki, extra_anchors)
    status = (
        RegistryStatusSource(
            Database.from_url(settings.database_url, timeout).session,
            log_vkey=log_key(settings, pki).verifier.vkey(),
        )
        if use_registry
        else None
    )
    return trust, status
