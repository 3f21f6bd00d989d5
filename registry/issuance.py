"""Issuing a certificate revision: render, sign B-LTA, record, in one transaction.

``issue`` does all of its database work after the PDF is signed, inside the
caller's transaction: if rendering or signing fails nothing is recorded, and if
recording fails the caller's rollback removes all of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from keys.pki import sha256_fingerprint
from keys.signing import DocumentSigner, sign_pdf
from verifier.qr import QrClaims, encode_qr_payload, scope_digest

from . import freshness
from .certificate_pdf import CertificateContent, ScopeLine, render
from .models import Accreditation, AuditEntry, Blob, Certificate, ScopeItem
from .programmes import certificate_number
from .standings import standings
from .status import AccreditationStatus, ItemState, local_date


class IssuanceRefused(Exception):
    """The accreditation cannot have a certificate now; the message says why."""


#: Statuses under which no new certificate revision may be issued.
REFUSED = {
    AccreditationStatus.WITHDRAWN: "is withdrawn",
    AccreditationStatus.EXPIRED: "has expired",
    AccreditationStatus.SUSPENDED: "is suspended",
    AccreditationStatus.PENDING: "is not yet in force",
}


@dataclass(frozen=True)
class Issued:
    certificate: Certificate
    pdf: bytes


def find_accreditation(session: Session, number: str) -> Accreditation:
    acc = session.scalars(
        select(Accreditation)
        .where(Accreditation.number == number)
        .options(
            selectinload(Accreditation.cab),
            selectinload(Accreditation.scope_items).selectinload(ScopeItem.site),
            selectinload(Accreditation.certificates),
        )
    ).one_or_none()
    if acc is None:
        raise IssuanceRefused(f"there is no accreditation numbered {number!r}")
    return acc


def scope_lines(items: list[ScopeItem]) -> list[ScopeLine]:
    return [
        ScopeLine(
            site_name_en=i.site.name_en,
            site_name_th=i.site.name_th,
            site_address_en=i.site.address_en,
            site_address_th=i.site.address_th,
            field_en=i.field_en,
            field_th=i.field_th,
            product_en=i.product_en,
            product_th=i.product_th,
            parameter_en=i.parameter_en,
            parameter_th=i.parameter_th,
            method=i.method,
            range_text=i.range_text,
            cmc_text=i.cmc_text,
        )
        for i in items
    ]


def issue(
    session: Session,
    accreditation: Accreditation,
    signer: DocumentSigner,
    config: dict[str, Any],
    *,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> Issued:
    """Issue the next certificate revision of ``accreditation``."""
    now = now or datetime.now(UTC)
    acc = accreditation
    standing = standings(session, now, [acc.id])[acc.id]
    if standing.status in REFUSED:
        raise IssuanceRefused(
            f"{acc.number} {REFUSED[standing.status]}; no certificate can be issued for it"
        )
    in_scope = [i for i in acc.scope_items if standing.items.get(i.id) is ItemState.ACTIVE]
    if not in_scope:
        raise IssuanceRefused(f"{acc.number} has no scope item in force")
    previous = max(acc.certificates, key=lambda c: c.revision, default=None)
    revision = (previous.revision if previous else 0) + 1
    number = certificate_number(acc.number, revision)
    list_index = session.scalar(
        select(func.coalesce(func.max(Certificate.status_list_index) + 1, 0))
    )

    lines = scope_lines(in_scope)
    claims = QrClaims(
        issuer=config["AGENCY_SHORT"],
        certificate_number=number,
        revision=revision,
        accreditation_number=acc.number,
        cab_name=acc.cab.name_en,
        standard=acc.standard,
        valid_until=acc.valid_until,
        scope_digest=scope_digest(vars(line) for line in lines),
        status_list_index=list_index,
        log_index=None,
    )
    public_url = config["PUBLIC_URL"]
    qr_url = encode_qr_payload(claims, signer.pki.qr_signing_jwk(), public_url)
    main_site = in_scope[0].site
    content = CertificateContent(
        agency_name_th=config["AGENCY_NAME_TH"],
        agency_name_en=config["AGENCY_NAME_EN"],
        agency_short=config["AGENCY_SHORT"],
        cab_name_th=acc.cab.name_th,
        cab_name_en=acc.cab.name_en,
        address_th=main_site.address_th,
        address_en=main_site.address_en,
        accreditation_number=acc.number,
        programme=acc.programme,
        standard=acc.standard,
        certificate_number=number,
        revision=revision,
        first_granted=acc.first_granted,
        issued_on=local_date(now),
        valid_until=acc.valid_until,
        qr_url=qr_url,
        registry_url=urlsplit(public_url).netloc or public_url,
        scope=lines,
    )
    signed = sign_pdf(render(content), signer, now=now)

    digest = hashlib.sha256(signed).hexdigest()
    session.add(Blob(sha256=digest, size=len(signed), data=signed, created_at=now))
    certificate = Certificate(
        accreditation=acc,
        number=number,
        revision=revision,
        sha256=digest,
        signer_fingerprint=sha256_fingerprint(signer.cert),
        issued_at=now,
        qr_url=qr_url,
        status_list_index=list_index,
    )
    session.add(certificate)
    session.flush()
    if previous is not None:
        previous.superseded_by = certificate
    session.add(
        AuditEntry(
            at=now,
            actor_id=actor_id,
            action="certificate.issue",
            target_type="certificate",
            target_id=number,
            detail={"sha256": digest, "revision": revision, "scope_items": len(lines)},
        )
    )
    freshness.changed(session, [acc.id], now)
    return Issued(certificate, signed)
