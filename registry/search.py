"""Search over the register: free text, filters, facets and pages.

Search reads ``search_entry`` (one row per accreditation) and never the scope
tables: a million scope rows hold only a few thousand distinct texts, so each
accreditation's distinct names, numbers, products, tests and methods are
folded into one ``body`` and indexed by trigrams. SQLite uses FTS5 with the
trigram tokenizer, PostgreSQL a ``pg_trgm`` GIN index; the only difference
between them is the one clause ``_text_clause`` builds. Everything else
(filters, counts, facets, ranking) is one set of SQLAlchemy queries.

Status is derived from dates as well as decisions, so each entry carries the
day its status could next change on its own (``recheck_on``); a search first
re-derives the few entries that have reached that day.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    column,
    delete,
    func,
    insert,
    select,
    table,
    update,
)
from sqlalchemy.orm import Session

from .models import (
    Accreditation,
    Cab,
    ScopeItem,
    SearchEntry,
    SearchFacet,
    Site,
    StatusEvent,
)
from .programmes import Programme
from .standings import standings
from .status import PUBLIC_STATUSES, AccreditationStatus, local_date

MAX_TEXT = 200
MAX_TERMS = 8
MAX_PAGE = 10_000
PER_PAGE = 20
FACET_LIMIT = 30
#: Status filter values besides the statuses themselves.
ALL_STATUSES = "all"
STATUS_ORDER = {s.value: n for n, s in enumerate(PUBLIC_STATUSES)}


#: SQLite only: the FTS5 table over ``search_entry.body`` (migration 0003).
FTS = table("search_fts", column("rowid"), column("search_fts"))


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
    def from_args(cls, args: Mapping[str, str]) -> SearchQuery:
        """Parse URL parameters, refusing anything out of bounds."""
        raw = args.get("q", "")
        if len(raw) > MAX_TEXT:
            raise SearchRefused(f"the search text is too long: at most {MAX_TEXT} characters")
        status = args.get("status") or AccreditationStatus.VALID.value
        if status != ALL_STATUSES and status not in STATUS_ORDER:
            raise SearchRefused(f"unknown status {status[:40]!r}")
        programme = args.get("programme") or None
        if programme is not None and programme not in {p.value for p in Programme}:
            raise SearchRefused(f"unknown programme {programme[:40]!r}")
        page_raw = args.get("page", "1") or "1"
        if not page_raw.isdigit() or not 1 <= int(page_raw[:6]) <= MAX_PAGE:
            raise SearchRefused(f"the page must be a number from 1 to {MAX_PAGE}")
        return cls(
            text=clean_text(raw),
            programme=programme,
            field=(args.get("field") or None) and clean_text(args["field"])[:200],
            place=(args.get("place") or None) and clean_text(args["place"])[:200],
            status=status,
            page=int(page_raw),
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


_CONTROL = re.compile(r"[\x00-\x1f\x7f\ufffd]")


def clean_text(value: str) -> str:
    """Drop control characters and undecodable bytes; normalise to NFC."""
    return " ".join(unicodedata.normalize("NFC", _CONTROL.sub(" ", value)).split())


def fold(value: str) -> str:
    return clean_text(value).casefold()


# -- reading -----------------------------------------------------------------


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_clause(session: Session, terms: list[str]) -> ColumnElement[bool] | None:
    """Every term must occur in the entry's body, as a substring."""
    if not terms:
        return None
    clauses: list[ColumnElement[bool]] = []
    if session.get_bind().dialect.name == "sqlite":
        indexed = [t for t in terms if len(t) >= 3]
        if indexed:
            expression = " AND ".join('"' + t.replace('"', '""') + '"' for t in indexed)
            clauses.append(
                SearchEntry.accreditation_id.in_(
                    select(FTS.c.rowid).where(FTS.c.search_fts.op("MATCH")(expression))
                )
            )
        short = [t for t in terms if len(t) < 3]
    else:
        short = terms
    clauses += [SearchEntry.body.like(_like_pattern(t), escape="\\") for t in short]
    return and_(*clauses)


def _filters(
    session: Session, query: SearchQuery, skip: Collection[str] = ()
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [SearchEntry.status != AccreditationStatus.PENDING.value]
    matched = _text_clause(session, query.terms())
    if matched is not None:
        clauses.append(matched)
    if query.programme and "programme" not in skip:
        clauses.append(SearchEntry.programme == query.programme)
    if query.status != ALL_STATUSES and "status" not in skip:
        clauses.append(SearchEntry.status == query.status)
    for facet in ("field", "place"):
        value = getattr(query, facet)
        if value and facet not in skip:
            clauses.append(
                SearchEntry.accreditation_id.in_(
                    select(SearchFacet.accreditation_id).where(
                        SearchFacet.facet == facet, SearchFacet.value == value
                    )
                )
            )
    return clauses


def _rank(query: SearchQuery) -> list[Any]:
    status_rank = case(STATUS_ORDER, value=SearchEntry.status, else_=len(STATUS_ORDER))
    order: list[Any] = []
    terms = query.terms()
    if terms:
        order.append(
            case(
                (func.lower(SearchEntry.number) == fold(query.text), 0),
                (SearchEntry.names.like(_like_pattern(terms[0]), escape="\\"), 1),
                else_=2,
            )
        )
    return [*order, status_rank, SearchEntry.name_en, SearchEntry.accreditation_id]


def search(session: Session, query: SearchQuery, now: datetime) -> SearchResult:
    """One page of hits with its total and facets, from three or four queries.

    Programme and status are columns, so one grouped count over the text and
    facet filters gives the total and both of their facets at once.
    """
    recheck_due(session, now)
    grid = session.execute(
        select(SearchEntry.programme, SearchEntry.status, func.count())
        .where(*_filters(session, query, skip=("programme", "status")))
        .group_by(SearchEntry.programme, SearchEntry.status)
    ).all()

    def kept(programme: str, status: str, skip: str = "") -> bool:
        return (skip == "programme" or not query.programme or programme == query.programme) and (
            skip == "status" or query.status == ALL_STATUSES or status == query.status
        )

    total = sum(count for programme, status, count in grid if kept(programme, status))
    counted: dict[str, dict[str, int]] = {"programme": defaultdict(int), "status": defaultdict(int)}
    for programme, status, count in grid:
        if kept(programme, status, "programme"):
            counted["programme"][programme] += count
        if kept(programme, status, "status"):
            counted["status"][status] += count
    facets = {
        name: [
            FacetValue(value=v, label_th="", count=c, selected=v == getattr(query, name))
            for v, c in sorted(values.items(), key=lambda vc: (-vc[1], vc[0]))
        ]
        for name, values in counted.items()
    }
    facets.update(_multi_facets(session, query))

    rows = (
        session.execute(
            select(
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
            .where(*_filters(session, query))
            .order_by(*_rank(query))
            .limit(query.per_page)
            .offset((query.page - 1) * query.per_page)
        ).all()
        if total
        else []
    )
    return SearchResult(query=query, total=total, hits=[Hit(*row) for row in rows], facets=facets)


def _multi_facets(session: Session, query: SearchQuery) -> dict[str, list[FacetValue]]:
    """Field and place counts, each under every filter but its own."""
    names = ("field", "place")
    if query.field or query.place:
        groups: list[tuple[tuple[str, ...], tuple[str, ...]]] = [((n,), (n,)) for n in names]
    else:
        groups = [(names, ())]
    found: dict[str, list[FacetValue]] = {n: [] for n in names}
    for wanted, skip in groups:
        statement = (
            select(SearchFacet.facet, SearchFacet.value, SearchFacet.label_th, func.count())
            .join(SearchEntry, SearchEntry.accreditation_id == SearchFacet.accreditation_id)
            .where(SearchFacet.facet.in_(wanted), *_filters(session, query, skip=skip))
            .group_by(SearchFacet.facet, SearchFacet.value, SearchFacet.label_th)
        )
        for facet, value, label, count in session.execute(statement):
            chosen = getattr(query, facet)
            found[facet].append(FacetValue(value, label, count, selected=value == chosen))
    return {
        name: sorted(values, key=lambda f: (-f.count, f.value))[:FACET_LIMIT]
        for name, values in found.items()
    }


# -- writing -------------------------------------------------------------------


def next_change(
    valid_until: date, events: Iterable[tuple[date, date | None]], today: date
) -> date | None:
    """The first day after ``today`` on which the status could change by itself."""
    days = [valid_until + timedelta(days=1)]
    for effective, until in events:
        days.append(effective)
        if until is not None:
            days.append(until + timedelta(days=1))
    later = [d for d in days if d > today]
    return min(later) if later else None


def reindex(
    session: Session, now: datetime, accreditation_ids: Collection[int] | None = None
) -> int:
    """Rebuild the entries of these accreditations (all when None); returns how many."""
    ids = None if accreditation_ids is None else sorted(set(accreditation_ids))
    if ids is not None and not ids:
        return 0
    if ids is None:
        session.execute(delete(SearchFacet))
        session.execute(delete(SearchEntry))
        chunks: list[list[int] | None] = [None]
    else:
        chunks = [ids[i : i + 5000] for i in range(0, len(ids), 5000)]
    done = 0
    for chunk in chunks:
        if chunk is not None:
            session.execute(delete(SearchFacet).where(SearchFacet.accreditation_id.in_(chunk)))
            session.execute(delete(SearchEntry).where(SearchEntry.accreditation_id.in_(chunk)))
        entries, facets = _build(session, now, chunk)
        for start in range(0, len(entries), 10_000):
            session.execute(insert(SearchEntry), entries[start : start + 10_000])
        for start in range(0, len(facets), 20_000):
            session.execute(insert(SearchFacet), facets[start : start + 20_000])
        done += len(entries)
    return done


def _where_ids(statement: Select[Any], column: Any, ids: list[int] | None) -> Select[Any]:
    return statement if ids is None else statement.where(column.in_(ids))


def _build(
    session: Session, now: datetime, ids: list[int] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    today = local_date(now)
    found = standings(session, now, ids)
    events: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for acc_id, effective, until in session.execute(
        _where_ids(
            select(
                StatusEvent.accreditation_id, StatusEvent.effective_date, StatusEvent.end_date
            ).where(StatusEvent.approved_by_id.is_not(None)),
            StatusEvent.accreditation_id,
            ids,
        )
    ):
        events[acc_id].append((effective, until))

    texts: dict[int, dict[str, None]] = defaultdict(dict)
    fields: dict[int, dict[str, str]] = defaultdict(dict)
    places: dict[int, dict[str, str]] = defaultdict(dict)
    scope = _where_ids(
        select(
            ScopeItem.accreditation_id,
            ScopeItem.field_en,
            ScopeItem.field_th,
            ScopeItem.product_en,
            ScopeItem.product_th,
            ScopeItem.parameter_en,
            ScopeItem.parameter_th,
            ScopeItem.method,
            Site.province_en,
            Site.province_th,
            Site.country,
        )
        .join(Site, Site.id == ScopeItem.site_id)
        .distinct(),
        ScopeItem.accreditation_id,
        ids,
    )
    for (
        acc_id,
        f_en,
        f_th,
        p_en,
        p_th,
        t_en,
        t_th,
        method,
        prov_en,
        prov_th,
        country,
    ) in session.execute(scope):
        bag = texts[acc_id]
        for value in (f_en, f_th, p_en, p_th, t_en, t_th, method, prov_en, prov_th):
            if value:
                bag.setdefault(value, None)
        fields[acc_id].setdefault(f_en, f_th)
        place = prov_en or country
        places[acc_id].setdefault(place, prov_th or country)

    entries: list[dict[str, Any]] = []
    facets: list[dict[str, Any]] = []
    accreditations = _where_ids(
        select(
            Accreditation.id,
            Accreditation.cab_id,
            Accreditation.number,
            Accreditation.programme,
            Accreditation.standard,
            Accreditation.valid_until,
            Cab.name_en,
            Cab.name_th,
            Cab.national_id,
        ).join(Cab, Cab.id == Accreditation.cab_id),
        Accreditation.id,
        ids,
    )
    for (
        acc_id,
        cab_id,
        number,
        programme,
        standard,
        until,
        name_en,
        name_th,
        nid,
    ) in session.execute(accreditations):
        standing = found[acc_id]
        names = f"{name_en}\n{name_th}"
        body = "\n".join([number, nid, standard, names, *texts[acc_id]])
        entries.append(
            {
                "accreditation_id": acc_id,
                "cab_id": cab_id,
                "number": number,
                "name_en": name_en,
                "name_th": name_th,
                "programme": Programme(programme).value,
                "standard": standard,
                "status": standing.status.value,
                "valid_until": until,
                "recheck_on": next_change(until, events[acc_id], today),
                "places_en": ", ".join(places[acc_id]),
                "places_th": ", ".join(places[acc_id].values()),
                "names": fold(names),
                "body": fold(body),
            }
        )
        for facet, values in (("field", fields[acc_id]), ("place", places[acc_id])):
            facets += [
                {"accreditation_id": acc_id, "facet": facet, "value": v, "label_th": th}
                for v, th in values.items()
            ]
    return entries, facets


def recheck_due(session: Session, now: datetime) -> int:
    """Re-derive the status of entries whose ``recheck_on`` day has come."""
    today = local_date(now)
    due = list(
        session.scalars(select(SearchEntry.accreditation_id).where(SearchEntry.recheck_on <= today))
    )
    if not due:
        return 0
    found = standings(session, now, due)
    events: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for acc_id, effective, until in session.execute(
        select(
            StatusEvent.accreditation_id, StatusEvent.effective_date, StatusEvent.end_date
        ).where(StatusEvent.approved_by_id.is_not(None), StatusEvent.accreditation_id.in_(due))
    ):
        events[acc_id].append((effective, until))
    for acc_id, until in session.execute(
        select(SearchEntry.accreditation_id, SearchEntry.valid_until).where(
            SearchEntry.accreditation_id.in_(due)
        )
    ).all():
        session.execute(
            update(SearchEntry)
            .where(SearchEntry.accreditation_id == acc_id)
            .values(
                status=found[acc_id].status.value,
                recheck_on=next_change(until, events[acc_id], today),
            )
        )
    session.commit()
    return len(due)
