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
from .bitmaps import (
    in_thai_order,
    iter_bits,
    nearest_words,
    scope_lines,
    snapshots,
    term_bits,
)
from .models import SearchEntry
from .text import MAX_TEXT, clean_text, fold, has_thai, query_terms, segment

MAX_TERMS = 8
MAX_PAGE = 10_000
PER_PAGE = 20
MAX_PER_PAGE = 100
FACET_LIMIT = 30
#: Status filter values besides the statuses themselves.
ALL_STATUSES = "all"
STATUS_ORDER = {s.value: n for n, s in enumerate(PUBLIC_STATUSES)}
#: The order results come in: what can be relied on now first, then what may
#: come back (a suspension ends), then what has ended.
STATUS_RANK = (
    AccreditationStatus.VALID.value,
    AccreditationStatus.PARTIALLY_SUSPENDED.value,
    AccreditationStatus.SUSPENDED.value,
    AccreditationStatus.EXPIRED.value,
    AccreditationStatus.WITHDRAWN.value,
)


class SearchRefused(ValueError):
    """The query cannot be run as given; the message says why, in plain words."""


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    programme: str | None = None
    field: str | None = None
    #: A province (English name), or the country code of a site abroad: a facet value.
    province: str | None = None
    #: Every public status unless narrowed: a suspended lab must not look absent.
    status: str = ALL_STATUSES
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
        status = args.get("status") or ALL_STATUSES
        if status != ALL_STATUSES and status not in STATUS_ORDER:
            raise SearchRefused(f"unknown status {status[:40]!r}")
        programme = args.get("programme") or None
        if programme is not None and programme not in {p.value for p in Programme}:
            raise SearchRefused(f"unknown programme {programme[:40]!r}")
        if not 1 <= page <= MAX_PAGE:
            raise SearchRefused(f"the page must be a number from 1 to {MAX_PAGE}")
        per_page_raw = args.get("per_page", "") or str(PER_PAGE)
        if not (per_page_raw.isascii() and per_page_raw.isdigit()) or not (
            1 <= int(per_page_raw[:6]) <= MAX_PER_PAGE
        ):
            raise SearchRefused(f"per_page must be a number from 1 to {MAX_PER_PAGE}")
        return cls(
            text=clean_text(raw),
            programme=programme,
            field=(args.get("field") or None) and clean_text(args["field"])[:200],
            # ``place`` is the parameter's first name, still understood.
            province=clean_text(args.get("province") or args.get("place") or "")[:200] or None,
            status=status,
            page=page,
            per_page=int(per_page_raw),
        )

    def terms(self) -> list[str]:
        return query_terms(self.text, MAX_TERMS)

    def as_args(self, **changes: Any) -> dict[str, str]:
        """The query as URL parameters, with ``changes``; defaults are left out."""
        values = {
            "q": self.text,
            "programme": self.programme,
            "field": self.field,
            "province": self.province,
            "status": self.status,
            "page": self.page,
            "per_page": self.per_page,
        }
        values.update(changes)
        if values["status"] == ALL_STATUSES:
            values["status"] = None
        if values["page"] == 1:
            values["page"] = None
        if values["per_page"] == PER_PAGE:
            values["per_page"] = None
        return {k: str(v) for k, v in values.items() if v}


@dataclass(frozen=True)
class FacetValue:
    value: str
    label_th: str
    count: int
    selected: bool


@dataclass(frozen=True)
class ScopeLine:
    """One scope line of a hit that holds a query term: why the hit matched."""

    product_en: str
    product_th: str
    parameter_en: str
    parameter_th: str
    method: str

    def as_json(self) -> dict[str, str]:
        return {
            "product_en": self.product_en,
            "product_th": self.product_th,
            "parameter_en": self.parameter_en,
            "parameter_th": self.parameter_th,
            "method": self.method,
        }


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
    #: The scope lines that hold query terms, best first (at most ``MATCH_LINES``).
    lines: tuple[ScopeLine, ...] = ()
    #: The terms its best line holds: what the record page's scope filter is given.
    scope_terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchResult:
    query: SearchQuery
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    #: The terms that were matched, after Thai segmentation: what a page marks.
    terms: tuple[str, ...] = ()
    #: The register's own words nearest to a query that found nothing.
    suggestions: tuple[str, ...] = ()

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
                "province": q.province,
                "place": q.province,
                "status": q.status,
            },
            "terms": list(self.terms),
            "suggestions": list(self.suggestions),
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
                    "matches": [line.as_json() for line in h.lines],
                    "scope_filter": " ".join(h.scope_terms),
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


def search(
    session: Session, query: SearchQuery, now: datetime, *, thai_order: bool = False
) -> SearchResult:
    """One page of hits, the total and every facet, under the query's filters.

    Hits come in English name order, or with ``thai_order`` in the Thai
    dictionary order of their Thai names (for Thai readers).

    Each facet is counted under every filter but its own, so that the other
    choices stay visible with their counts.
    """
    with snapshots.lock:
        snap = snapshots.current(session, now)
        matched = snap.everything & ~snap.facets.get(("status", "pending"), 0)
        name_match = matched
        used: list[str] = []
        missing: list[str] = []
        for typed in query.terms():
            in_text, in_name = term_bits(snap, session, typed)
            pieces: tuple[str, ...] = (typed,)
            if not in_text and has_thai(typed):
                # Thai written without spaces: found as written, or else word by word.
                pieces = segment(typed)
                if pieces != (typed,):
                    in_text, in_name = matched, matched
                    for piece in pieces:
                        piece_text, piece_name = term_bits(snap, session, piece)
                        in_text &= piece_text
                        in_name &= piece_name
            if not in_text:
                missing += pieces
            used += [p for p in pieces if p not in used]
            matched &= in_text
            name_match &= in_name

        chosen = {
            "programme": query.programme,
            "field": query.field,
            "province": query.province,
            "status": None if query.status == ALL_STATUSES else query.status,
        }
        filters = {
            name: snap.facets.get((FACET_KEYS.get(name, name), value), 0)
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
                if facet == FACET_KEYS.get(name, name) and value != "pending"
            ]
            facets[name] = sorted(
                (v for v in values if v.count or v.selected), key=lambda v: (-v.count, v.value)
            )[:FACET_LIMIT]

        # Ranked: the exact number, then by status (valid first); within a
        # status, name matches before scope matches, each by name (the bit order).
        exact = snap.numbers.get(fold(query.text))
        exact_bits = (1 << exact) & result if exact is not None else 0
        rest = result & ~exact_bits
        tiers = [name_match & rest, rest & ~name_match] if query.terms() else [rest]
        ordered = [exact_bits] + [
            tier & snap.facets.get(("status", status), 0)
            for status in STATUS_RANK
            for tier in tiers
        ]
        skip = (query.page - 1) * query.per_page
        take = query.per_page
        positions: list[int] = []
        for tier_bits in ordered:
            count = tier_bits.bit_count()
            if skip >= count:
                skip -= count
                continue
            found = (
                in_thai_order(snap, tier_bits, skip, take)
                if thai_order
                else list(iter_bits(tier_bits, skip, take))
            )
            positions += found
            skip = 0
            take -= len(found)
            if not take:
                break
        ids = [snap.ids[p] for p in positions]
        derived = {i: snap.statuses[i] for i in ids if i in snap.statuses}
        total = result.bit_count()
        suggestions = nearest_words(snap, missing) if not total else ()
        lines = scope_lines(snap, session, ids) if ids and used else {}

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
    matches = matching_lines(lines, used)
    hits = [Hit(*rows[i], *matches.get(i, ((), ()))) for i in ids if i in rows]
    if derived:
        hits = [replace(h, status=derived.get(h.accreditation_id, h.status)) for h in hits]
    return SearchResult(
        query=query,
        total=total,
        hits=hits,
        facets=facets,
        terms=tuple(used),
        suggestions=suggestions,
    )


#: How many matching scope lines a hit shows.
MATCH_LINES = 3


def matching_lines(
    lines: dict[int, tuple[tuple[str, tuple[str, ...]], ...]], terms: list[str]
) -> dict[int, tuple[tuple[ScopeLine, ...], tuple[str, ...]]]:
    """For each hit, its scope lines that hold query terms, and the terms of the best one.

    A line that holds more of the terms comes first.
    """
    chosen = {}
    for acc_id, held in lines.items():
        found = [
            (inside, columns)
            for folded, columns in held
            if (inside := tuple(t for t in terms if t in folded))
        ]
        if not found:
            continue
        best = sorted(found, key=lambda line: (-len(line[0]), line[1]))[:MATCH_LINES]
        # The record page's filter wants every term in one line: the best line's.
        chosen[acc_id] = (tuple(ScopeLine(*columns) for _, columns in best), best[0][0])
    return chosen


def public_accreditation(session: Session, number: str, now: datetime) -> tuple[int, str] | None:
    """The (id, number as registered) of the public accreditation so numbered, in any case.

    Read from the snapshot's numbers, already folded in memory: a lower-case
    lookup in SQL would scan the table. Pending accreditations are not public.
    """
    with snapshots.lock:
        snap = snapshots.current(session, now)
        position = snap.numbers.get(fold(number))
        entry = snap.entries[position] if position is not None else None
        if entry is None or entry.status == "pending":
            return None
        acc_id = snap.ids[position]  # type: ignore[index]
    registered = session.scalar(
        select(SearchEntry.number).where(SearchEntry.accreditation_id == acc_id)
    )
    return None if registered is None else (acc_id, registered)


FACET_NAMES = ("status", "programme", "field", "province")
#: Public facet names whose index rows are stored under another name (``search_facet.facet``).
FACET_KEYS = {"province": "place"}
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
