"""Certificates and their blobs in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.certificates.models import Blob, Certificate, revisions_of
from registry.register.programmes import certificate_number

from .. import factories


def test_certificates_revisions_blobs_and_supersession(session: Session):
    acc = factories.accreditation(session)
    revisions = []
    for revision in (1, 2):
        digest = f"{revision:064x}"
        session.add(Blob(sha256=digest, size=3, data=b"pdf"))
        cert = Certificate(
            accreditation=acc,
            number=certificate_number(acc.number, revision),
            revision=revision,
            sha256=digest,
            signer_fingerprint="ab" * 32,
            issued_at=datetime.now(UTC),
        )
        session.add(cert)
        session.flush()
        revisions.append(cert)
    revisions[0].superseded_by = revisions[1]
    session.commit()
    session.expire_all()
    found = revisions_of(session, acc.id)
    assert [c.number for c in found] == [f"{acc.number}/R1", f"{acc.number}/R2"]
    assert found[0].superseded_by is found[1]
    with session.begin_nested():
        session.add(
            Certificate(
                accreditation=acc,
                number=f"{acc.number}/R2bis",
                revision=2,
                sha256=f"{1:064x}",
                signer_fingerprint="ab" * 32,
                issued_at=datetime.now(UTC),
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()
