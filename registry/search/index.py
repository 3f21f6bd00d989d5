"""Keeping the search index in step with the register.

``reindex`` rebuilds the ``search_entry`` rows (and their facets and words) of
the accreditations a transaction touched, tagged with the register version
that the same transaction moves to; ``changes.record`` calls it for every
change. Search processes then pick up exactly the rows whose version is newer
than theirs (see ``bitmaps``).

Statuses also change by the calendar alone (expiry, the end of a suspension).
Each entry carries ``recheck_on``, the next day that could happen: a search
derives those entries again in memory (``derived``), without writing, and the
daily ``accredit tick`` stores the new answers through ``changes.record``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..dates import local_date
from ..register.models import Accreditation, Cab, ScopeItem, Site, StatusEvent
from ..register.programmes import Programme
from ..register.standings import standings
from ..version import bump
from .models import SearchEntry, SearchFacet, SearchWord
from .text import fold, words_of


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
    session: Session,
    now: datetime,
    version: int,
    accreditation_ids: Collection[int] | None = None,
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
        entries, facets = _build(session, now, chunk, version)
        add_words(session, {w for e in entries for w in words_of(e["body"])})
        for start in range(0, len(entries), 10_000):
            session.execute(insert(SearchEntry), entries[start : start + 10_000])
        for start in range(0, len(facets), 20_000):
            session.execute(insert(SearchFacet), facets[start : start + 20_000])
        done += len(entries)
    if ids is None:
        analyse(session)
    return done


def _where_ids(statement: Select[Any], column: Any, ids: list[int] | None) -> Select[Any]:
    return statement if ids is None else statement.where(column.in_(ids))


def add_words(session: Session, words: set[str]) -> None:
    """Add the words not yet known; existing ones are left as they are."""
    if not words:
        return
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [{"word": w} for w in sorted(words)]
    for start in range(0, len(rows), 20_000):
        session.execute(
            make(SearchWord).on_conflict_do_nothing(index_elements=["word"]),
            rows[start : start + 20_000],
        )


def _build(
    session: Session, now: datetime, ids: list[int] | None, version: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    statuses = derived(session, now, ids)

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
        status, recheck_on = statuses[acc_id]
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
                "status": status,
                "valid_until": until,
                "recheck_on": recheck_on,
                "places_en": ", ".join(places[acc_id]),
                "places_th": ", ".join(places[acc_id].values()),
                "names": fold(names),
                "body": fold(body),
                "version": version,
            }
        )
        for facet, values in (("field", fields[acc_id]), ("place", places[acc_id])):
            facets += [
                {"accreditation_id": acc_id, "facet": facet, "value": v, "label_th": th}
                for v, th in values.items()
            ]
    return entries, facets


def derived(
    session: Session, now: datetime, ids: Collection[int] | None
) -> dict[int, tuple[str, date | None]]:
    """Each accreditation's status at ``now`` and the next day it could change by itself.

    A read: the same answer whether the index stores it (``_build``) or a
    search process derives it in memory for an entry whose day has come.
    """
    chosen = None if ids is None else list(ids)
    today = local_date(now)
    found = standings(session, now, chosen)
    events: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for acc_id, effective, until in session.execute(
        _where_ids(
            select(
                StatusEvent.accreditation_id, StatusEvent.effective_date, StatusEvent.end_date
            ).where(StatusEvent.approved_by_id.is_not(None)),
            StatusEvent.accreditation_id,
            chosen,
        )
    ):
        events[acc_id].append((effective, until))
    cycles = dict(
        session.execute(
            _where_ids(
                select(Accreditation.id, Accreditation.valid_until), Accreditation.id, chosen
            )
        ).all()
    )
    return {
        acc_id: (standing.status.value, next_change(cycles[acc_id], events[acc_id], today))
        for acc_id, standing in found.items()
    }


def due(session: Session, day: date) -> list[int]:
    """Accreditations whose stored status may be out of date on ``day`` (for the tick)."""
    return list(
        session.scalars(select(SearchEntry.accreditation_id).where(SearchEntry.recheck_on <= day))
    )


def ensure_indexed(session: Session, now: datetime) -> int:
    """Index the whole register when entries are missing (after a bulk load or an upgrade).

    Index repair, not a change of any fact: it moves the version (so search
    processes reload) but writes no audit entry.
    """
    have = session.scalar(select(func.count()).select_from(SearchEntry))
    want = session.scalar(select(func.count()).select_from(Accreditation))
    if have == want:
        return 0
    return reindex(session, now, bump(session, now))


def analyse(session: Session) -> None:
    """Fresh planner statistics after a bulk index: PostgreSQL scans without them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE search_word, search_entry, search_facet"))
