"""The one big answer about a certificate: genuine, and current or why not.

Used by the QR landing page (``/V/<token>``) and by people who type a
certificate number (``/c/<number>``); both show the same answer, and the JSON
twin carries the same facts with stable English codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..log.checkpoints import signed_size
from ..log.store import proof_url
from ..register.models import Accreditation, ScopeItem
from ..register.standings import standings
from ..register.status import DocumentStatus, ItemState, Standing, document_status
from .models import Certificate, revisions_of


@dataclass(frozen=True)
class ScopeSummary:
    items: int
    suspended: int
    fields: list[tuple[str, str]]
    sites: int


@dataclass(frozen=True)
class Answer:
    certificate: Certificate
    accreditation: Accreditation
    standing: Standing
    status: DocumentStatus
    #: The revision in force when this one is superseded.
    current: Certificate | None
    scope: ScopeSummary
    checked_at: datetime
    #: The size of the log's latest signed checkpoint (for the inclusion proof's link).
    log_signed: int = 0

    @property
    def since(self) -> date | None:
        if self.status is DocumentStatus.SUPERSEDED and self.current is not None:
            return self.current.issued_at.date()
        return self.standing.since

    @property
    def suspended_items(self) -> list[dict[str, object]]:
        """The items suspended now, each with since when and until when (one vocabulary:
        the QR page, ``/verify``, the CLI and the API all list them)."""
        found = []
        for item in sorted(self.accreditation.scope_items, key=lambda i: i.id):
            if self.standing.items.get(item.id) is not ItemState.SUSPENDED:
                continue
            since, until = self.standing.suspensions.get(item.id, (self.standing.since, None))
            found.append(
                {
                    "id": item.id,
                    "product_en": item.product_en,
                    "product_th": item.product_th,
                    "parameter_en": item.parameter_en,
                    "parameter_th": item.parameter_th,
                    "method": item.method,
                    "since": since.isoformat() if since else None,
                    "until": until.isoformat() if until else None,
                }
            )
        return found

    def as_json(self) -> dict[str, object]:
        acc, cert = self.accreditation, self.certificate
        return {
            "genuine": True,
            "status": self.status.value,
            "since": self.since.isoformat() if self.since else None,
            "until": self.standing.until.isoformat() if self.standing.until else None,
            "reason": self.standing.reason,
            "reason_th": getattr(self.standing.reason, "th", None),
            "certificate": {
                "number": cert.number,
                "revision": cert.revision,
                "issued_at": cert.issued_at.isoformat(timespec="seconds"),
                "sha256": cert.sha256,
                "served_sha256": cert.served_sha256,
                "pdf": f"/c/{cert.number}.pdf",
                "log_index": cert.log_index,
                "log_proof": proof_url(cert.log_index, self.log_signed),
            },
            "current_revision": (
                {"number": self.current.number, "revision": self.current.revision}
                if self.current
                else None
            ),
            "accreditation": {
                "number": acc.number,
                "status": self.standing.status.value,
                "standard": acc.standard,
                "programme": acc.programme.value,
                "valid_from": acc.valid_from.isoformat(),
                "valid_until": acc.valid_until.isoformat(),
            },
            "cab": {"name_en": acc.cab.name_en, "name_th": acc.cab.name_th},
            "scope": {
                "items": self.scope.items,
                "suspended": self.scope.suspended,
                "sites": self.scope.sites,
                "fields": [{"en": en, "th": th} for en, th in self.scope.fields],
            },
            "suspended_items": self.suspended_items,
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "live": True,
        }


def find_certificate(session: Session, number: str) -> Certificate | None:
    return session.scalars(
        select(Certificate)
        .where(Certificate.number == number)
        .options(
            selectinload(Certificate.accreditation).selectinload(Accreditation.cab),
            selectinload(Certificate.accreditation)
            .selectinload(Accreditation.scope_items)
            .selectinload(ScopeItem.site),
        )
    ).one_or_none()


def answer_for(session: Session, certificate: Certificate, now: datetime) -> Answer:
    acc = certificate.accreditation
    standing = standings(session, now, [acc.id])[acc.id]
    latest = revisions_of(session, acc.id)[-1]
    status = document_status(standing, latest=latest.id == certificate.id)
    in_scope = [
        i
        for i in acc.scope_items
        if standing.items.get(i.id) in (ItemState.ACTIVE, ItemState.SUSPENDED)
    ]
    fields = sorted({(i.field_en, i.field_th) for i in in_scope})
    summary = ScopeSummary(
        items=len(in_scope),
        suspended=sum(1 for i in in_scope if standing.items[i.id] is ItemState.SUSPENDED),
        fields=fields,
        sites=len({i.site_id for i in in_scope}),
    )
    return Answer(
        certificate=certificate,
        accreditation=acc,
        standing=standing,
        status=status,
        current=latest if latest.id != certificate.id else None,
        scope=summary,
        checked_at=now,
        log_signed=signed_size(session),
    )
