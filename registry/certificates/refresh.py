"""LTA refresh: a fresh document timestamp on stored certificates before their chain runs out.

The original file stays as issued (verification binds to it for ever); the
refreshed copy becomes the one the registry serves, recorded through
``changes.record`` like every other change the public can see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.signing import DocumentSigner, refresh_lta, timestamp_chain_end

from .. import changes
from ..changes import Actor, Change
from ..db import Database
from ..log import leaves
from .models import Blob, Certificate


@dataclass(frozen=True)
class Checked:
    number: str
    #: When the chain of the served copy's last document timestamp ends (None: it has none).
    chain_ends: datetime | None
    #: The new served copy's SHA-256, when it was refreshed.
    refreshed: str | None


def refresh_one(
    session: Session,
    certificate: Certificate,
    signer: DocumentSigner,
    *,
    actor: Actor,
    now: datetime,
) -> str:
    """Add a document timestamp to the served copy of ``certificate``; return its SHA-256.

    In the caller's transaction, like the change it records.
    """
    blob = session.get(Blob, certificate.current_sha256)
    if blob is None:
        raise LookupError(f"the stored copy of {certificate.number} is missing")
    data = refresh_lta(blob.data, signer, now=now)
    digest = hashlib.sha256(data).hexdigest()
    if session.get(Blob, digest) is None:
        session.add(Blob(sha256=digest, size=len(data), data=data, created_at=now))
    previous = certificate.current_sha256
    certificate.served_sha256 = digest
    changes.record(
        session,
        Change(
            action="certificate.refresh_lta",
            target_type="certificate",
            target_id=certificate.number,
            actor=actor,
            accreditations={certificate.accreditation_id},
            detail={"original": certificate.sha256, "previous": previous, "served": digest},
            leaf=leaves.certificate_refreshed(
                number=certificate.number,
                original=certificate.sha256,
                previous=previous,
                served=digest,
            ),
        ),
        now,
    )
    return digest


def refresh_due(
    database: Database, signer: DocumentSigner, *, before: datetime, actor: Actor, now: datetime
) -> Iterator[Checked]:
    """Refresh every certificate whose timestamp chain ends before ``before``.

    One transaction per certificate, so a failure keeps the refreshes before it.
    """
    known = [signer.pki.root, signer.pki.issuing, signer.pki.tsa]
    with database.session() as session:
        ids = session.scalars(select(Certificate.id).order_by(Certificate.id)).all()
    for cert_id in ids:
        with database.transaction() as session:
            cert = session.get(Certificate, cert_id)
            blob = session.get(Blob, cert.current_sha256) if cert is not None else None
            if cert is None or blob is None:
                continue
            ends = timestamp_chain_end(blob.data, known)
            if ends is not None and ends >= before:
                yield Checked(cert.number, ends, None)
                continue
            yield Checked(
                cert.number, ends, refresh_one(session, cert, signer, actor=actor, now=now)
            )
