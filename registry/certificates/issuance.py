"""Issuing a certificate revision: render, sign B-LTA, record, in one transaction.

``issue`` does all of its database work after the PDF is signed, inside the
caller's transaction, and records it through ``changes.record``: if rendering
or signing fails nothing is recorded, and if recording fails the caller's
rollback removes all of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from keys.pki import sha256_fingerprint
from keys.signing import DocumentSigner, sign_pdf
from verifier.qr import QrClaims, encode_qr_payload, scope_digest

from .. import changes, version
from ..changes import Actor, Change
from ..dates import local_date
from ..log import leaves
from ..log import store as log_store
from ..register.models import Accreditation, ScopeItem
from ..register.programmes import certificate_number
from ..register.standings import standings
from ..register.status import AccreditationStatus, ItemState
from ..settings import Settings
from .models import Blob, Certificate, revisions_of
from .pdf.document import CertificateContent, ScopeLine, render


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
    settings: Settings,
    *,
    actor: Actor,
    approver: Actor | None = None,
    now: datetime | None = None,
) -> Issued:
    """Issue the next certificate revision of ``accreditation``, as ``actor`` records it."""
    now = now or datetime.now(UTC)
    acc = accreditation
    version.lock(session)  # the next revision and status-list index are ours alone
    standing = standings(session, now, [acc.id])[acc.id]
    if standing.status in REFUSED:
        raise IssuanceRefused(
            f"{acc.number} {REFUSED[standing.status]}; no certificate can be issued for it"
        )
    # Site by site in the CAB's own order (its first site is the head office): the
    # annex prints the sites in this order and the cover page shows the first one.
    in_scope = sorted(
        (i for i in acc.scope_items if standing.items.get(i.id) is ItemState.ACTIVE),
        key=lambda i: (i.site_id, i.id),
    )
    if not in_scope:
        raise IssuanceRefused(f"{acc.number} has no scope item in force")
    revisions = revisions_of(session, acc.id)
    previous = revisions[-1] if revisions else None
    revision = (previous.revision if previous else 0) + 1
    number = certificate_number(acc.number, revision)
    list_index = session.scalar(
        select(func.coalesce(func.max(Certificate.status_list_index) + 1, 0))
    )
    log_index = log_store.size(session)  # the leaf this issuance appends, under the lock

    lines = scope_lines(in_scope)
    claims = QrClaims(
        issuer=settings.agency_short,
        certificate_number=number,
        revision=revision,
        accreditation_number=acc.number,
        cab_name=acc.cab.name_en,
        standard=acc.standard,
        valid_until=acc.valid_until,
        scope_digest=scope_digest(vars(line) for line in lines),
        status_list_index=list_index,
        log_index=log_index,
    )
    public_url = settings.public_url
    qr_url = encode_qr_payload(claims, signer.pki.qr_signing_jwk(), public_url)
    main_site = in_scope[0].site
    content = CertificateContent(
        agency_name_th=settings.agency_name_th,
        agency_name_en=settings.agency_name_en,
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
        log_index=log_index,
    )
    session.add(certificate)
    session.flush()
    if previous is not None:
        previous.superseded_by = certificate
    recorded = changes.record(
        session,
        Change(
            action="certificate.issue",
            target_type="certificate",
            target_id=number,
            actor=actor,
            approver=approver,
            accreditations={acc.id},
            detail={
                "sha256": digest,
                "revision": revision,
                "scope_items": len(lines),
                "signer": certificate.signer_fingerprint,
                "supersedes": previous.number if previous else None,
            },
            leaf=leaves.certificate_issued(
                number=number,
                accreditation=acc.number,
                revision=revision,
                sha256=digest,
                signer=certificate.signer_fingerprint,
            ),
        ),
        now,
    )
    if recorded.detail["log_index"] != log_index:
        raise IssuanceRefused("the log moved during issuance; issue again")
    return Issued(certificate, signed)
