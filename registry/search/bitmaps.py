"""The search index held in memory as bitmaps: counts and facets in microseconds.

A plain SQL search over a large register pays per matching row: counting
and faceting twenty thousand matches costs tens of milliseconds per facet.
Here each accreditation has a position (in name order) and every set of
accreditations is a Python integer used as a bitmap: a word's postings, a
facet value, a status. A query is then a few ANDs and ORs, each count a
``bit_count``, each page a walk over a few set bits.

Text is still matched by the database's trigram index, over the register's
distinct words (``search_word``): a term (which has no spaces) lies inside an
entry's text exactly when it lies inside one of the entry's words, so the
database answers "which words contain this term" and the bitmaps answer
everything else.

A snapshot belongs to one process and one database. Before each search it
reads the register version; rows written since its own version are applied
in place, so an answer is never older than the register. Entries whose status
may have changed by the calendar since they were stored (``recheck_on`` has
come) are derived again in memory: a search never writes.
"""

from __future__ import annotations

import difflib
import gc
from array import array
from collections import OrderedDict, defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from operator import methodcaller
from threading import RLock
from typing import Any

from pythainlp.util import collate
from sqlalchemy import Select, column, func, select, table
from sqlalchemy.orm import Session

from .. import version
from ..dates import local_date
from ..db import cache_key
from ..register.models import ScopeItem
from .index import derived
from .models import SearchEntry, SearchFacet, SearchWord
from .text import contains_pattern, fold, load_segmenter, words_of

#: SQLite only: the FTS5 table over ``search_word`` (migration 0003).
WORD_FTS = table("search_word_fts", column("rowid"), column("search_word_fts"), column("word"))
#: A set of positions kept as a list when small, as a bitmap when large.
DENSE = 64
TERM_CACHE = 2048
#: How many accreditations' scope lines a snapshot keeps for "why it matched".
LINE_CACHE = 4096
#: The columns of a scope line as a hit shows it: product, parameter, method.
LINE_COLUMNS = (
    ScopeItem.product_en,
    ScopeItem.product_th,
    ScopeItem.parameter_en,
    ScopeItem.parameter_th,
    ScopeItem.method,
)
#: Thai-order buckets: a page in Thai order sorts one bucket's hits, not all of them.
THAI_BUCKETS = 64
ONE = ord("1")
#: ``word_ids``: the ids that are not the placeholder for a new word.
NOT_NEW = (-1).__ne__


def bits_of(positions: Sequence[int], size: int) -> int:
    """The bitmap of ``positions`` (each below ``size``).

    Many positions (a common word, a facet: a load makes 3,000 of these from
    7.5 million positions) are written as the digits of a binary number and
    read back by ``int``, both in C; a few are set one at a time.
    """
    if len(positions) * 32 > size:
        digits = bytearray(b"0" * size)
        deque(map(digits.__setitem__, positions, repeat(ONE)), 0)
        digits.reverse()  # the highest position is the first digit
        return int(digits, 2) if digits else 0
    buffer = bytearray((size >> 3) + 1)
    for p in positions:
        buffer[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(buffer, "little")


def iter_bits(bits: int, skip: int, take: int) -> Iterator[int]:
    """Positions of set bits in ascending order, after skipping ``skip`` of them."""
    if take <= 0 or not bits:
        return
    raw = bits.to_bytes((bits.bit_length() + 7) >> 3, "little")
    chunk = 4096
    for base in range(0, len(raw), chunk):
        piece = raw[base : base + chunk]
        ones = int.from_bytes(piece, "little").bit_count()
        if ones <= skip:
            skip -= ones
            continue
        for offset, byte in enumerate(piece):
            if not byte:
                continue
            for bit in range(8):
                if byte >> bit & 1:
                    if skip:
                        skip -= 1
                        continue
                    yield ((base + offset) << 3) + bit
                    take -= 1
                    if not take:
                        return


class Postings:
    """Word id -> positions: one position, a short list, or a bitmap once dense.

    Most words of a register are one body's own (its number, its juristic-person
    id, its name): 200,000 of 210,000 words over 100,000 bodies. Each is kept as
    its one position, not as a list of one (some 30 MB fewer).
    """

    def __init__(self) -> None:
        self.single: dict[int, int] = {}
        self.small: dict[int, array[int]] = defaultdict(lambda: array("i"))
        self.dense: dict[int, int] = {}

    def load(self, ids: array[int], new: int, position: int) -> None:
        """One position's postings during a full load (from empty), in C.

        The last ``new`` of ``ids`` were first seen here: each gets this position
        as its one position. The others are appended to their lists, which
        ``finish_load`` completes with that first position.
        """
        known = len(ids) - new
        if new:
            self.single.update(zip(ids[known:], repeat(position)))
        deque(map(methodcaller("append", position), map(self.small.__getitem__, ids[:known])), 0)

    def finish_load(self, size: int) -> None:
        """After ``load``: each list gets its first position; long lists become bitmaps."""
        for word, found in list(self.small.items()):
            first = self.single.pop(word, None)
            if first is not None:
                found.insert(0, first)
            if len(found) > DENSE:
                self.dense[word] = bits_of(self.small.pop(word), size)
            elif len(found) == 1:  # first seen by another list (a name's word in a body)
                self.single[word] = found[0]
                del self.small[word]

    def add(self, word: int, position: int) -> None:
        if word in self.dense:
            self.dense[word] |= 1 << position
        elif word in self.small:
            self.small[word].append(position)
        elif word in self.single:
            self.small[word] = array("i", (self.single.pop(word), position))
        else:
            self.single[word] = position

    def remove(self, word: int, position: int) -> None:
        if word in self.dense:
            self.dense[word] &= ~(1 << position)
        elif word in self.small:
            found = self.small[word]
            if position in found:
                found.remove(position)
        elif self.single.get(word) == position:
            del self.single[word]

    def union(self, words: Iterable[int], size: int) -> int:
        bits = 0
        scattered: list[int] = []
        for word in words:
            if word in self.dense:
                bits |= self.dense[word]
            elif word in self.small:
                scattered += self.small[word]
            elif word in self.single:
                scattered.append(self.single[word])
        if scattered:
            bits |= bits_of(scattered, size)
        return bits


@dataclass(slots=True)
class Entry:
    """What a position holds, kept compact so that it can be cleared later.

    The word ids are kept as the bytes of an ``array("i")``: exactly their size,
    where an array grown from an iterator keeps up to an eighth more.
    """

    words: bytes
    name_words: bytes
    facets: tuple[tuple[str, str], ...]
    number: str
    status: str
    recheck_on: date | None


@dataclass
class Snapshot:
    """Everything search needs except the hits' display columns."""

    version: int = -1
    ids: list[int] = field(default_factory=list)
    positions: dict[int, int] = field(default_factory=dict)
    entries: list[Entry | None] = field(default_factory=list)
    vocabulary: dict[str, int] = field(default_factory=dict)
    words: Postings = field(default_factory=Postings)
    names: Postings = field(default_factory=Postings)
    facets: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    labels: dict[tuple[str, str], str] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    everything: int = 0
    terms: OrderedDict[str, tuple[int, int]] = field(default_factory=OrderedDict)
    #: The earliest ``recheck_on`` of any entry: nothing is due before it.
    next_due: date | None = None
    #: Statuses derived in memory since their rows were stored (accreditation id ->).
    statuses: dict[int, str] = field(default_factory=dict)
    _keys: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    _initials: dict[str, list[str]] = field(default_factory=dict)
    _initials_size: int = -1
    #: Each position's rank in Thai dictionary order of the Thai names (positions
    #: themselves follow the English names). Entries added since the full load
    #: rank last, as they sit last in English order too.
    thai_rank: array[int] = field(default_factory=lambda: array("i"))
    #: Positions by Thai rank, cut into ``THAI_BUCKETS`` consecutive bands.
    thai_buckets: list[int] = field(default_factory=list)
    #: Recently shown hits' distinct scope lines (folded text, columns), least recent first.
    lines: OrderedDict[int, tuple[tuple[str, tuple[str, ...]], ...]] = field(
        default_factory=OrderedDict
    )

    @property
    def size(self) -> int:
        return len(self.ids)

    def words_by_initial(self) -> dict[str, list[str]]:
        """The vocabulary by first letter, for suggestions; remade when it has grown."""
        if self._initials_size != len(self.vocabulary):
            grouped: dict[str, list[str]] = defaultdict(list)
            for word in self.vocabulary:
                grouped[word[:1]].append(word)
            self._initials = dict(grouped)
            self._initials_size = len(self.vocabulary)
        return self._initials

    def word_ids(self, text: str) -> tuple[array[int], int]:
        """The ids of the text's words, and how many of them, the last ones, are new.

        ``map`` and set difference do the per-word work in C: a full load meets
        some eight million words, of which a few hundred thousand are new.
        """
        vocabulary = self.vocabulary
        words = words_of(text)
        ids = array("i", map(vocabulary.get, words, repeat(-1)))
        if -1 not in ids:
            return ids, 0
        ids = array("i", filter(NOT_NEW, ids))
        first = len(vocabulary)
        for word in words.difference(vocabulary):
            vocabulary[word] = len(vocabulary)
        ids.extend(range(first, len(vocabulary)))
        return ids, len(vocabulary) - first

    def place(
        self,
        acc_id: int,
        row: Any,
        facets: tuple[tuple[str, str], ...],
        keyed: dict[tuple[str, str], list[int]] | None = None,
    ) -> None:
        """Put one entry's row in, replacing what its position held before.

        ``facets`` are its field and place keys, as ``key`` shares them. During a
        full load (``keyed`` given) facet positions are collected as lists and
        turned into bitmaps once at the end; growing a large bitmap one bit at a
        time copies it every time.
        """
        position = self.positions.get(acc_id)
        if position is None:
            position = len(self.ids)
            self.ids.append(acc_id)
            self.entries.append(None)
            self.positions[acc_id] = position
            self.thai_rank.append(len(self.thai_rank))
            if self.thai_buckets:
                self.thai_buckets[-1] |= 1 << position
        else:
            self._clear(position)
        self.lines.pop(acc_id, None)
        programme, status = self.key("programme", row.programme), self.key("status", row.status)
        for key in (programme, status):
            self.labels.setdefault(key, "")
        keys = (programme, status, *facets)
        (words, new), (name_words, new_names) = self.word_ids(row.body), self.word_ids(row.names)
        if keyed is not None:  # a full load, from empty: ``finish_load`` completes these
            self.words.load(words, new, position)
            self.names.load(name_words, new_names, position)
        else:
            for word in words:
                self.words.add(word, position)
            for word in name_words:
                self.names.add(word, position)
        number = row.number.casefold()
        self.numbers[number] = position
        self.entries[position] = Entry(
            words.tobytes(),
            name_words.tobytes(),
            keys,
            number,
            status[1],  # one string per status, not one per entry
            row.recheck_on,
        )
        self.statuses.pop(acc_id, None)
        if row.recheck_on is not None and (self.next_due is None or row.recheck_on < self.next_due):
            self.next_due = row.recheck_on
        if keyed is not None:
            for key in keys:
                keyed[key].append(position)
            keyed[("", "")].append(position)
            return
        bit = 1 << position
        for key in keys:
            self.facets[key] |= bit
        self.everything |= bit

    def key(self, facet: str, value: str) -> tuple[str, str]:
        """The one shared ``(facet, value)`` object: a million copies of one key add up."""
        key = (facet, value)
        return self._keys.setdefault(key, key)

    def _clear(self, position: int) -> None:
        old = self.entries[position]
        if old is None:
            return
        mask = ~(1 << position)
        for key in old.facets:
            self.facets[key] &= mask
        for word in array("i", old.words):
            self.words.remove(word, position)
        for word in array("i", old.name_words):
            self.names.remove(word, position)
        self.numbers.pop(old.number, None)
        self.everything &= mask
        self.entries[position] = None

    def rederive(self, session: Session, now: datetime) -> None:
        """Derive again, in memory, the statuses whose day to change has come."""
        today = local_date(now)
        if self.next_due is None or self.next_due > today:
            return
        due = [
            self.ids[p]
            for p, entry in enumerate(self.entries)
            if entry is not None and entry.recheck_on is not None and entry.recheck_on <= today
        ]
        fresh = derived(session, now, due)
        for acc_id in due:
            position = self.positions[acc_id]
            entry = self.entries[position]
            assert entry is not None
            status, recheck_on = fresh[acc_id]
            if status != entry.status:
                bit = 1 << position
                old, new = ("status", entry.status), self.key("status", status)
                self.facets[old] &= ~bit
                self.facets[new] |= bit
                self.labels.setdefault(new, "")
                entry.facets = tuple(new if k == old else k for k in entry.facets)
                entry.status = new[1]
                self.statuses[acc_id] = status
            entry.recheck_on = recheck_on
        upcoming = [e.recheck_on for e in self.entries if e is not None and e.recheck_on]
        self.next_due = min(upcoming) if upcoming else None


ENTRY_COLUMNS = (
    SearchEntry.accreditation_id,
    SearchEntry.number,
    SearchEntry.programme,
    SearchEntry.status,
    SearchEntry.recheck_on,
    SearchEntry.names,
    SearchEntry.body,
    SearchEntry.name_th,
)


def in_thai_order(snapshot: Snapshot, bits: int, skip: int, take: int) -> list[int]:
    """Positions of ``bits`` in Thai name order, after skipping ``skip`` of them."""
    found: list[int] = []
    for bucket in snapshot.thai_buckets:
        band = bits & bucket
        count = band.bit_count()
        if skip >= count:
            skip -= count
            continue
        ranked = sorted(iter_bits(band, 0, count), key=snapshot.thai_rank.__getitem__)
        found += ranked[skip : skip + take - len(found)]
        skip = 0
        if len(found) >= take:
            break
    return found


def _rank_in_thai(snapshot: Snapshot, names_th: list[str]) -> None:
    """Rank every position by its Thai name, as a Thai dictionary orders words."""
    order = {name: n for n, name in enumerate(collate(set(names_th)))}
    ranks = sorted(range(len(names_th)), key=lambda p: (order[names_th[p]], p))
    snapshot.thai_rank = array("i", bytes(4 * len(ranks)))
    for rank, position in enumerate(ranks):
        snapshot.thai_rank[position] = rank
    band = max(1, -(-len(ranks) // THAI_BUCKETS))
    snapshot.thai_buckets = [
        bits_of(ranks[start : start + band], len(ranks)) for start in range(0, len(ranks), band)
    ] or [0]


def _load(snapshot: Snapshot, session: Session, since: int | None) -> None:
    """Read the entries changed since ``since`` (all of them when ``None``) into ``snapshot``.

    A full load of 100,000 bodies makes some two million long-lived objects;
    the cyclic garbage collector, run every few hundred of them, took a third of
    the time walking them (nothing it frees is made here), so it waits until the
    end. Rows are read 5,000 at a time: all the facet rows at once (760,000)
    cost some 190 MB that, freed between long-lived objects, the process never
    gave back (measured: the load grew a process by 410 MB, now 245 MB).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        _load_rows(snapshot, session, since)
    finally:
        if collecting:
            gc.enable()


def _load_rows(snapshot: Snapshot, session: Session, since: int | None) -> None:
    entries = select(*ENTRY_COLUMNS).execution_options(yield_per=5000)
    changed = None
    if since is None:
        entries = entries.order_by(SearchEntry.name_en, SearchEntry.accreditation_id)
    else:
        changed = select(SearchEntry.accreditation_id).where(SearchEntry.version > since)
        entries = entries.where(SearchEntry.version > since)
    by_entry = _facets_by_entry(snapshot, session, changed)
    keyed: dict[tuple[str, str], list[int]] | None = defaultdict(list) if since is None else None
    names_th: list[str] = []
    for row in session.execute(entries):
        snapshot.place(row.accreditation_id, row, by_entry.get(row.accreditation_id, ()), keyed)
        names_th.append(row.name_th)
    if keyed is not None:
        _rank_in_thai(snapshot, names_th)
        load_segmenter()  # with the index: the first Thai query should not pay for it
        size = snapshot.size
        snapshot.everything = bits_of(keyed.pop(("", ""), []), size)
        for key, found in keyed.items():
            snapshot.facets[key] = bits_of(found, size)
        snapshot.words.finish_load(size)
        snapshot.names.finish_load(size)
    snapshot.terms.clear()


#: Between a facet and its value, and between one entry's facets, in ``_facets_by_entry``.
UNIT, RECORD = "\x1f", "\x1e"


def _facets_by_entry(
    snapshot: Snapshot, session: Session, changed: Select[Any] | None
) -> dict[int, tuple[tuple[str, str], ...]]:
    """Each entry's facet keys (of ``changed`` entries, or all), the labels noted on the way.

    Over 100,000 bodies there are 760,000 facet rows but some sixty distinct
    facets: the database joins each entry's facets into one string, which is cut
    and looked up here, instead of 760,000 rows each made into objects. A value
    that holds a separator (a register's own data, but never trusted) fails the
    lookup, and that entry's facets are read row by row.
    """
    distinct = select(SearchFacet.facet, SearchFacet.value, func.max(SearchFacet.label_th))
    joined = select(
        SearchFacet.accreditation_id,
        func.aggregate_strings(SearchFacet.facet + UNIT + SearchFacet.value, RECORD),
    )
    if changed is not None:
        distinct = distinct.where(SearchFacet.accreditation_id.in_(changed))
        joined = joined.where(SearchFacet.accreditation_id.in_(changed))
    known: dict[str, tuple[str, str]] = {}
    for facet, value, label in session.execute(
        distinct.group_by(SearchFacet.facet, SearchFacet.value)
    ):
        key = snapshot.key(facet, value)
        snapshot.labels[key] = label
        known[f"{facet}{UNIT}{value}"] = key
    found: dict[int, tuple[tuple[str, str], ...]] = {}
    statement = joined.group_by(SearchFacet.accreditation_id).execution_options(yield_per=5000)
    for acc_id, packed in session.execute(statement):
        keys = tuple(map(known.get, packed.split(RECORD)))
        if None in keys:
            rows = session.execute(
                select(SearchFacet.facet, SearchFacet.value).where(
                    SearchFacet.accreditation_id == acc_id
                )
            )
            keys = tuple(snapshot.key(facet, value) for facet, value in rows)
        found[acc_id] = keys  # type: ignore[assignment]
    return found


class Snapshots:
    """One snapshot per database, brought up to date before each use."""

    def __init__(self) -> None:
        self._by_key: dict[str, Snapshot] = {}
        #: Held for a whole search: snapshots are updated in place.
        self.lock = RLock()

    def current(self, session: Session, now: datetime) -> Snapshot:
        """The snapshot of the session's database as of ``now``; use it under ``lock``."""
        key = cache_key(session)
        number = version.current(session, now).number
        with self.lock:
            snapshot = self._by_key.get(key)
            if snapshot is None:
                snapshot = Snapshot()
                _load(snapshot, session, None)
                self._by_key[key] = snapshot
            elif snapshot.version < number:
                _load(snapshot, session, snapshot.version)
            snapshot.version = max(snapshot.version, number)
            snapshot.rederive(session, now)
            return snapshot

    def forget(self) -> None:
        with self.lock:
            self._by_key.clear()


snapshots = Snapshots()


def matching_words(session: Session, term: str) -> list[str]:
    """Words that contain ``term``: the database's trigram index does this part."""
    pattern = contains_pattern(term)
    if session.get_bind().dialect.name == "sqlite" and len(term) >= 3:
        phrase = '"' + term.replace('"', '""') + '"'
        statement = select(WORD_FTS.c.word).where(WORD_FTS.c.search_word_fts.op("MATCH")(phrase))
    else:
        # PostgreSQL's GIN trigram index serves LIKE; SQLite scans for 1-2 letters.
        statement = select(SearchWord.word).where(SearchWord.word.like(pattern, escape="\\"))
    return list(session.scalars(statement))


def scope_lines(
    snapshot: Snapshot, session: Session, ids: list[int]
) -> dict[int, tuple[tuple[str, tuple[str, ...]], ...]]:
    """Each accreditation's distinct scope lines, folded for matching; kept for the next page.

    A hit's lines change only when its entry does (``place`` drops them), and
    the same popular hits come back page after page: reading them once saves
    the database a scan of their scope on every search.
    """
    cache = snapshot.lines
    missing = [i for i in ids if i not in cache]
    if missing:
        fetched: dict[int, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
        statement = (
            select(ScopeItem.accreditation_id, *LINE_COLUMNS)
            .where(ScopeItem.accreditation_id.in_(missing))
            .distinct()
        )
        for acc_id, *values in session.execute(statement):
            columns = tuple(v or "" for v in values)
            fetched[acc_id].append((fold(" ".join(columns)), columns))
        for acc_id in missing:
            cache[acc_id] = tuple(fetched.get(acc_id, ()))
    found = {}
    for acc_id in ids:
        cache.move_to_end(acc_id)
        found[acc_id] = cache[acc_id]
    while len(cache) > LINE_CACHE:
        cache.popitem(last=False)
    return found


def term_bits(snapshot: Snapshot, session: Session, term: str) -> tuple[int, int]:
    """(entries whose text contains ``term``, entries whose name does)."""
    with_lock = snapshot.terms.get(term)
    if with_lock is not None:
        snapshot.terms.move_to_end(term)
        return with_lock
    vocabulary = snapshot.vocabulary
    words = [vocabulary[w] for w in matching_words(session, term) if w in vocabulary]
    found = (
        snapshot.words.union(words, snapshot.size),
        snapshot.names.union(words, snapshot.size),
    )
    snapshot.terms[term] = found
    while len(snapshot.terms) > TERM_CACHE:
        snapshot.terms.popitem(last=False)
    return found


#: How many nearest words a search that found nothing suggests.
SUGGESTIONS = 5


def nearest_words(snapshot: Snapshot, terms: Iterable[str]) -> tuple[str, ...]:
    """The register's own words closest in spelling to terms that matched nothing.

    Only words with the same first letter and about the same length are
    compared: a slip is rarely in the first letter, difflib's ratio rejects
    the rest anyway, and the register may hold a million words.
    """
    by_initial = snapshot.words_by_initial()
    found: dict[str, None] = {}
    for term in terms:
        size = len(term)
        slack = max(2, size // 3)
        candidates = [
            w for w in by_initial.get(term[:1], ()) if abs(len(w) - size) <= slack and w != term
        ]
        for word in difflib.get_close_matches(term, candidates, n=SUGGESTIONS, cutoff=0.7):
            found.setdefault(word, None)
    return tuple(found)[:SUGGESTIONS]
