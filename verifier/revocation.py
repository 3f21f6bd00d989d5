"""Revocation as the agency states it now, beside what the file carries.

A PDF carries the OCSP responses and CRLs of the day it was signed, and a
thief holding a signing key can embed yesterday's "good" answers in a
document signed today. So the verifier also reads the agency's current CRLs
(from the instance, the offline bundle, or the registry): a signature made
on or after its certificate's revocation date fails, whatever the file says.
A signature made earlier stays valid, which is why the time comes from the
signature timestamp, never from the signer's own claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from .cms import issued_by


@dataclass(frozen=True)
class Revocation:
    #: The certificate that was revoked (the signer's, or a CA's above it).
    subject: str
    at: datetime
    reason: str | None


def _issuers(
    cert: x509.Certificate, pool: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """Certificates that issued ``cert`` and are anchors or issued by one."""
    return [
        issuer
        for issuer in pool
        if issued_by(cert, issuer)
        and (issuer in anchors or any(issued_by(issuer, anchor) for anchor in anchors))
    ]


def _listed(
    cert: x509.Certificate,
    issuers: Sequence[x509.Certificate],
    crls: Iterable[x509.CertificateRevocationList],
) -> Revocation | None:
    for crl in crls:
        if crl.issuer != cert.issuer:
            continue
        if not any(crl.is_signature_valid(i.public_key()) for i in issuers):  # type: ignore[arg-type]
            continue
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is None:
            continue
        try:
            reason: str | None = entry.extensions.get_extension_for_class(
                x509.CRLReason
            ).value.reason.value
        except x509.ExtensionNotFound:
            reason = None
        return Revocation(cert.subject.rfc4514_string(), entry.revocation_date_utc, reason)
    return None


def revoked_before(
    signer: x509.Certificate,
    carried: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    signed_at: datetime | None,
) -> Revocation | None:
    """The revocation that makes this signature invalid, if the agency's CRLs list one.

    Checks the signer and the CA certificate that issued it. With no proven
    signing time, any listed revocation counts.
    """
    if not crls:
        return None
    pool = [*carried, *anchors]
    for cert in (signer, *_issuers(signer, pool, anchors)):
        if cert in anchors:
            continue
        found = _listed(cert, _issuers(cert, pool, anchors), crls)
        if found is not None and (signed_at is None or found.at <= signed_at):
            return found
    return None
