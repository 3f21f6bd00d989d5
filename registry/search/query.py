"""Search over the register: free text, filters, facets and pages.

Search reads ``search_entry`` (one row per accreditation), never the scope
tables: a million scope rows hold only a few thousand distinct texts, so each
accreditation's distinct names, numbers, products, tests and methods are
folded into one ``body``. Terms are matched against the body's words by the
database's trigram index (SQLite FTS5 ``trigram``, PostgreSQL ``pg_trgm``);
sets, counts, facets and ranking are bitmaps in memory (``bitmaps``).

Status is derived from dates as well as decisions, so each entry carries the
day its status could next change on its own (``recheck_on``); the snapshot
derives the few entries that have reached that day again, in memory. A search
only reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..register.programmes import Programme
from ..register.status import PUBLIC_STATUSES, AccreditationStatus
from .bitmaps import iter_bits, snapshots, term_bits
from .models import SearchEntry
from .text import MAX_TEXT, clean_text, fold

MAX_TERMS = 8
MAX_PAGE = 10_000
PER_PAGE = 20
FACET_LIMIT = 30
#: Status filter values besides the statuses themselves.
ALL_STATUSES = "all"
STATUS_ORDER = {s.value: n for n, s in enumerate(PUBLIC_STATUSES)}


class SearchRefused(ValueError):
    """The query cannot be run as given; the message says why, in plain words."""


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    programme: str | None = None
    field: str | None = None
    place: str | None = None
    status: str = AccreditationStatus.VALID.value
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_args(cls, args: Mapping[str, str], page: int = 1) -> SearchQuery:
        """Parse URL parameters, refusing anything out of bounds.

        The page arrives already read: numbers in URLs are read by the web
        layer's one parser (``web.parameters``), which the domain cannot import.
        """
        raw = args.get("q", "")
        if len(raw) > MAX_TEXT:
            raise SearchRefused(f"the search text is too long: at most {MAX_TEXT} characters")
        status = args.get("status") or AccreditationStatus.VALID.value
        if status != ALL_STATUSES and status not in STATUS_ORDER:
            raise SearchRefused(f"unknown status {status[:40]!r}")
        programme = args.get("programme") or None
        if programme is not None and programme not in {p.value for p in Programme}:
            raise SearchRefused(f"unknown programme {programme[:40]!r}")
        if not 1 <= page <= MAX_PAGE:
            raise SearchRefused(f"the page must be a number from 1 to {MAX_PAGE}")
        return cls(
            text=clean_text(raw),
            programme=programme,
            field=(args.get("field") or None) and clean_text(args["field"])[:200],
            place=(args.get("place") or None) and clean_text(args["place"])[:200],
            status=status,
            page=page,
        )

    def terms(self) -> list[str]:
        seen: dict[str, None] = {}
        for word in fold(self.text).split():
            seen.setdefault(word, None)
        return list(seen)[:MAX_TERMS]

    def as_args(self, **changes: Any) -> dict[str, str]:
        """The query as URL parameters, with ``changes``; defaults are left out."""
        values = {
            "q": self.text,
            "programme": self.programme,
            "field": self.field,
            "place": self.place,
            "status": self.status,
            "page": self.page,
        }
        values.update(changes)
        if values["status"] == AccreditationStatus.VALID.value:
            values["status"] = None
        if values["page"] == 1:
            values["page"] = None
        return {k: str(v) for k, v in values.items() if v}


@dataclass(frozen=True)
class FacetValue:
    value: str
    label_th: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Hit:
    accreditation_id: int
    cab_id: int
    number: str
    name_en: str
    name_th: str
    programme: str
    standard: str
    status: str
    valid_until: date
    places_en: str
    places_th: str


@dataclass(frozen=True)
class SearchResult:
    query: SearchQuery
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))

    def as_json(self) -> dict[str, Any]:
        q = self.query
        return {
            "query": {
                "q": q.text,
                "programme": q.programme,
                "field": q.field,
                "place": q.place,
                "status": q.status,
            },
            "total": self.total,
            "page": q.page,
            "pages": self.pages,
            "per_page": q.per_page,
            "results": [
                {
                    "accreditation": h.number,
                    "cab_id": h.cab_id,
                    "name_en": h.name_en,
                    "name_th": h.name_th,
                    "programme": h.programme,
                    "standard": h.standard,
                    "status": h.status,
                    "valid_until": h.valid_until.isoformat(),
                    "places_en": h.places_en,
                    "places_th": h.places_th,
                    "url": f"/a/{h.number}",
                }
                for h in self.hits
            ],
            "facets": {
                name: [
                    {
                        "value": f.value,
                        "label_th": f.label_th,
                        "count": f.count,
                        "selected": f.selected,
                    }
                    for f in values
                ]
                for name, values in self.facets.items()
            },
        }


# -- reading -----------------------------------------------------------------


def search(session: Session, query: SearchQuery, now: datetime) -> SearchResult:
    """One page of hits, the total and every facet, under the query's filters.

    Each facet is counted under every filter but its own, so that the other
    choices stay visible with their counts.
    """
    with snapshots.lock:
        snap = snapshots.current(session, now)
        matched = snap.everything & ~snap.facets.get(("status", "pending"), 0)
        name_match = matched
        for term in query.terms():
            in_text, in_name = term_bits(snap, session, term)
            matched &= in_text
            name_match &= in_name

        chosen = {
            "programme": query.programme,
            "field": query.field,
            "place": query.place,
            "status": None if query.status == ALL_STATUSES else query.status,
        }
        filters = {
            name: snap.facets.get((name, value), 0)
            for name, value in chosen.items()
            if value is not None
        }

        def narrowed(skip: str | None = None) -> int:
            bits = matched
            for name, mask in filters.items():
                if name != skip:
                    bits &= mask
            return bits

        result = narrowed()
        facets: dict[str, list[FacetValue]] = {}
        for name in FACET_NAMES:
            base = narrowed(skip=name) if name in filters else result
            values = [
                FacetValue(
                    value=value,
                    label_th=snap.labels.get((facet, value), ""),
                    count=(base & mask).bit_count(),
                    selected=value == chosen[name],
                )
                for (facet, value), mask in snap.facets.items()
                if facet == name and value != "pending"
            ]
            facets[name] = sorted(
                (v for v in values if v.count or v.selected), key=lambda v: (-v.count, v.value)
            )[:FACET_LIMIT]

        # Ranked tiers: the exact number, then name matches, then the rest;
        # within each, by status (valid first), then by name (the bit order).
        exact = snap.numbers.get(fold(query.text))
        exact_bits = (1 << exact) & result if exact is not None else 0
        tiers = [exact_bits]
        if query.terms():
            tiers.append(name_match & result & ~exact_bits)
            tiers.append(result & ~name_match & ~exact_bits)
        else:
            tiers.append(result & ~exact_bits)
        ordered = [
            tier & snap.facets.get(("status", status), 0)
            for tier in tiers
            for status in STATUS_ORDER
        ]
        skip = (query.page - 1) * query.per_page
        take = query.per_page
        positions: list[int] = []
        for segment in ordered:
            count = segment.bit_count()
            if skip >= count:
                skip -= count
                continue
            found = list(iter_bits(segment, skip, take))
            positions += found
            skip = 0
            take -= len(found)
            if not take:
                break
        ids = [snap.ids[p] for p in positions]
        derived = {i: snap.statuses[i] for i in ids if i in snap.statuses}
        total = result.bit_count()

    rows = (
        {
            row.accreditation_id: row
            for row in session.execute(
                select(*HIT_COLUMNS).where(SearchEntry.accreditation_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    hits = [Hit(*rows[i]) for i in ids if i in rows]
    if derived:
        hits = [replace(h, status=derived.get(h.accreditation_id, h.status)) for h in hits]
    return SearchResult(query=query, total=total, hits=hits, facets=facets)


FACET_NAMES = ("status", "programme", "field", "place")
HIT_COLUMNS = (
    SearchEntry.accreditation_id,
    SearchEntry.cab_id,
    SearchEntry.number,
    SearchEntry.name_en,
    SearchEntry.name_th,
    SearchEntry.programme,
    SearchEntry.standard,
    SearchEntry.status,
    SearchEntry.valid_until,
    SearchEntry.places_en,
    SearchEntry.places_th,
)
