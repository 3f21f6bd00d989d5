"""The register's record of a body and of an accreditation, as plain data.

Each function returns the JSON twin of a page: the template renders exactly
this dictionary, so the page and ``/api/v1/...`` can never say different things.
Codes stay in English; the page translates the labels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..certificates.models import revisions_of
from ..log.checkpoints import signed_size
from ..log.store import proof_url
from ..register.models import Accreditation, Cab, ScopeItem, StatusEvent
from ..register.shapes import scope_item_json, site_json
from ..register.standings import standings
from ..register.status import ItemState, document_status
from ..search.query import SearchRefused
from ..search.text import MAX_TEXT, clean_text, contains_pattern, filter_words
from ..settings import Recognition
from ..web.parameters import whole_number

SCOPE_PAGE = 50
#: Far beyond any scope table (50 lines a page), and bounded.
MAX_SCOPE_PAGE = 100_000
#: Database ids are 32-bit integers on PostgreSQL.
MAX_ID = 2**31 - 1


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def contact_json(cab: Cab) -> dict[str, str | None]:
    """How the public reaches a body: the same three fields on its page, the API and exports."""
    return {"email": cab.email, "phone": cab.phone, "website": cab.website}


def recognition_json(
    recognition: Sequence[Recognition], programmes: Iterable[str]
) -> list[dict[str, Any]]:
    """The agency's arrangements, each saying whether it covers this record's programmes.

    A reader abroad must not take an ILAC signature as covering a programme
    outside its scope, so every arrangement is listed with ``covers``.
    """
    wanted = set(programmes)
    return [{**r.as_json(), "covers": any(r.covers(p) for p in wanted)} for r in recognition]


def cab_record(
    session: Session, cab_id: int, now: datetime, recognition: Sequence[Recognition] = ()
) -> dict[str, Any] | None:
    cab = session.scalars(
        select(Cab)
        .where(Cab.id == cab_id)
        .options(selectinload(Cab.sites), selectinload(Cab.accreditations))
    ).one_or_none()
    if cab is None:
        return None
    found = standings(session, now, [a.id for a in cab.accreditations])
    public = [a for a in cab.accreditations if found[a.id].status.value != "pending"]
    updated = [cab.updated_at, *(a.updated_at for a in public)]
    if public:
        latest_event = session.scalar(
            select(func.max(StatusEvent.approved_at)).where(
                StatusEvent.accreditation_id.in_([a.id for a in public])
            )
        )
        updated.append(latest_event)
    return {
        "cab": {
            "id": cab.id,
            "name_en": cab.name_en,
            "name_th": cab.name_th,
            "national_id": cab.national_id,
            **contact_json(cab),
        },
        "sites": [site_json(s) for s in cab.sites],
        "accreditations": [
            {
                "number": a.number,
                "programme": a.programme.value,
                "standard": a.standard,
                "status": found[a.id].status.value,
                "since": _iso(found[a.id].since),
                "valid_from": _iso(a.valid_from),
                "valid_until": _iso(a.valid_until),
                "url": f"/a/{a.number}",
            }
            for a in public
        ],
        "recognition": recognition_json(recognition, {a.programme.value for a in public}),
        "last_updated": _iso(max(u for u in updated if u is not None)),
        "checked_at": _iso(now),
    }


def scope_filters(args: Mapping[str, str]) -> dict[str, Any]:
    """The scope table's filters from URL parameters, refusing nonsense."""
    text = args.get("q", "")
    if len(text) > MAX_TEXT:
        raise SearchRefused(f"the filter text is too long: at most {MAX_TEXT} characters")
    return {
        "q": clean_text(text),
        "site": whole_number(args, "site", default=None, low=1, high=MAX_ID),
        "field": clean_text(args.get("field", ""))[:200] or None,
        "page": whole_number(args, "page", default=1, low=1, high=MAX_SCOPE_PAGE),
    }


def accreditation_record(
    session: Session,
    number: str,
    filters: Mapping[str, Any],
    now: datetime,
    recognition: Sequence[Recognition] = (),
) -> dict[str, Any] | None:
    acc = session.scalars(
        select(Accreditation)
        .where(Accreditation.number == number)
        .options(
            selectinload(Accreditation.cab).selectinload(Cab.sites),
            selectinload(Accreditation.events).selectinload(StatusEvent.items),
        )
    ).one_or_none()
    if acc is None:
        return None
    standing = standings(session, now, [acc.id])[acc.id]
    if standing.status.value == "pending":
        return None
    in_scope = {
        i: s for i, s in standing.items.items() if s in (ItemState.ACTIVE, ItemState.SUSPENDED)
    }

    items = select(ScopeItem).where(
        ScopeItem.accreditation_id == acc.id, ScopeItem.id.in_(list(in_scope) or [-1])
    )
    field_counts = Counter(
        (en, th)
        for en, th in session.execute(
            select(ScopeItem.field_en, ScopeItem.field_th).where(
                ScopeItem.accreditation_id == acc.id, ScopeItem.id.in_(list(in_scope) or [-1])
            )
        )
    )
    if filters.get("site"):
        items = items.where(ScopeItem.site_id == filters["site"])
    if filters.get("field"):
        items = items.where(ScopeItem.field_en == filters["field"])
    for word in filter_words(filters.get("q") or ""):
        pattern = contains_pattern(word)
        items = items.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        ScopeItem.product_en,
                        ScopeItem.product_th,
                        ScopeItem.parameter_en,
                        ScopeItem.parameter_th,
                        ScopeItem.method,
                        ScopeItem.field_en,
                        ScopeItem.field_th,
                    )
                )
            )
        )
    total = session.scalar(select(func.count()).select_from(items.subquery())) or 0
    pages = max(1, -(-total // SCOPE_PAGE))
    page = min(filters.get("page") or 1, pages)
    rows = session.scalars(
        items.order_by(ScopeItem.site_id, ScopeItem.field_en, ScopeItem.id)
        .limit(SCOPE_PAGE)
        .offset((page - 1) * SCOPE_PAGE)
    ).all()
    sites = {s.id: s for s in acc.cab.sites}
    shown = standing.public_items

    certificates = revisions_of(session, acc.id)
    signed = signed_size(session)
    latest = certificates[-1] if certificates else None
    events = [e for e in acc.events if e.approved_at is not None]
    updated = [acc.updated_at, *(e.approved_at for e in events)]
    updated += [c.issued_at for c in certificates]
    return {
        "accreditation": {
            "number": acc.number,
            "programme": acc.programme.value,
            "standard": acc.standard,
            "first_granted": _iso(acc.first_granted),
            "valid_from": _iso(acc.valid_from),
            "valid_until": _iso(acc.valid_until),
            "status": standing.status.value,
            "since": _iso(standing.since),
            "until": _iso(standing.until),
            "reason": standing.reason,
            "reason_th": getattr(standing.reason, "th", None),
        },
        "cab": {
            "id": acc.cab.id,
            "name_en": acc.cab.name_en,
            "name_th": acc.cab.name_th,
            "url": f"/cab/{acc.cab.id}",
            **contact_json(acc.cab),
        },
        # Where the body works: every site with its address, so that a scope line's
        # site can be found on the ground (the page lists them; the API carries them).
        "sites": [site_json(s) for s in acc.cab.sites],
        "recognition": recognition_json(recognition, [acc.programme.value]),
        "scope": {
            "total": total,
            "in_scope": len(in_scope),
            "suspended": sum(1 for s in in_scope.values() if s is ItemState.SUSPENDED),
            "page": page,
            "pages": pages,
            "per_page": SCOPE_PAGE,
            "filters": {
                "q": filters.get("q") or "",
                "site": filters.get("site"),
                "field": filters.get("field"),
            },
            "fields": [
                {"en": en, "th": th, "count": n} for (en, th), n in sorted(field_counts.items())
            ],
            "sites": [
                {"id": s.id, "name_en": s.name_en, "name_th": s.name_th} for s in acc.cab.sites
            ],
            "items": [
                {
                    # What the public reads: capped by the accreditation's own status.
                    **scope_item_json(i, shown[i.id]),
                    "site_en": sites[i.site_id].name_en if i.site_id in sites else "",
                    "site_th": sites[i.site_id].name_th if i.site_id in sites else "",
                }
                for i in rows
            ],
        },
        "history": [
            {
                "kind": e.kind.value,
                "effective": _iso(e.effective_date),
                "until": _iso(e.end_date),
                "reason_en": e.reason_en,
                "reason_th": e.reason_th,
                "items": len(e.items),
                "decided_at": _iso(e.approved_at),
                "log_index": e.log_index,
                "log_proof": proof_url(e.log_index, signed),
            }
            for e in sorted(events, key=lambda e: (e.effective_date, e.id), reverse=True)
        ],
        "certificates": [
            {
                "number": c.number,
                "revision": c.revision,
                "issued_at": _iso(c.issued_at),
                "status": document_status(standing, latest=c is latest).value,
                "current": c is latest and standing.active,
                "sha256": c.sha256,
                "pdf": f"/c/{c.number}.pdf",
                "url": f"/c/{c.number}",
                "log_index": c.log_index,
                "log_proof": proof_url(c.log_index, signed),
            }
            for c in reversed(certificates)
        ],
        "last_updated": _iso(max(u for u in updated if u is not None)),
        "checked_at": _iso(now),
    }
