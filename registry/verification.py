"""The registry as a status source for the verifier (the live, online answer)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from keys.pki import Pki
from verifier.sources import StatusAnswer, TrustBundle

from .answers import answer_for, find_certificate


class RegistryStatusSource:
    """Answers from the register's database, as of the moment of the lookup."""

    def __init__(self, engine: Engine, now: datetime | None = None) -> None:
        self.engine = engine
        self.now = now

    def lookup(
        self, certificate_number: str, digests: Iterable[str], claims: object = None
    ) -> StatusAnswer | None:
        now = self.now or datetime.now(UTC)
        with Session(self.engine) as session:
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
            )


def signed_revision_digests(session: Session, sha256: str) -> set[str]:
    """SHA-256 of the signed revision inside the issued file (it survives LTA updates)."""
    import hashlib
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    from .models import Blob

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
    from keys.revocation import CAS, current_crl

    return TrustBundle.from_pem(
        [pki.root.public_bytes(serialization.Encoding.PEM), *extra_anchors],
        pki.qr_jwks(),
        [current_crl(pki, ca) for ca in CAS],
    )


def instance_context(
    config: dict[str, object], extra_anchors: tuple[bytes, ...] = (), use_registry: bool = True
) -> tuple[TrustBundle, RegistryStatusSource | None]:
    """Trust and status for ``accredit verify`` inside an instance (picklable for workers)."""
    from . import db
    from .agency import load_pki

    trust = agency_trust(load_pki(config), extra_anchors)
    status = (
        RegistryStatusSource(db.make_engine(str(config["DATABASE_URL"]))) if use_registry else None
    )
    return trust, status
