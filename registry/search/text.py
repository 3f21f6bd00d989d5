"""Text as search sees it: cleaned, folded, split into words, matched literally.

The same folding serves the search index, the query and the record pages'
scope filter, so a word found in one is found in the others.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from pythainlp.tokenize import word_tokenize

#: The longest search or filter text accepted, in characters.
MAX_TEXT = 200
#: The longest word kept in the index.
MAX_WORD = 300

_CONTROL = re.compile(r"[\x00-\x1f\x7f\ufffd]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")

#: Words that say nothing about a lab, dropped from queries. A short list of
#: our own rather than pythainlp's thousand, which holds words that do carry
#: meaning in a scope ("ทาง", "ความ", "ผล").
STOP_WORDS = frozenset(
    {
        # Thai: prepositions, conjunctions and the nominalisers written before a noun.
        "ใน", "และ", "ของ", "ที่", "การ", "กับ", "หรือ", "แห่ง", "สำหรับ", "โดย",
        "จาก", "ซึ่ง", "ให้", "แก่", "ต่อ", "เพื่อ", "ด้วย", "ถึง", "นี้", "นั้น", "มี",
        # English
        "a", "an", "and", "at", "by", "for", "from", "in", "into", "of", "on",
        "or", "the", "to", "with",
    }
)  # fmt: skip


def clean_text(value: str) -> str:
    """Drop control characters and undecodable bytes; normalise to NFC."""
    return " ".join(unicodedata.normalize("NFC", _CONTROL.sub(" ", value)).split())


def fold(value: str) -> str:
    return clean_text(value).casefold()


def has_thai(value: str) -> bool:
    return _THAI.search(value) is not None


def load_segmenter() -> None:
    """Load pythainlp's dictionary now (about 0.6 s) rather than in the first Thai search."""
    word_tokenize("ตะกั่วในข้าว", engine="newmm")


@lru_cache(maxsize=4096)
def segment(term: str) -> tuple[str, ...]:
    """A term split at Thai word boundaries, stop words dropped.

    Thai is written without spaces, so ``ตะกั่วในข้าว`` is one term to the
    index. pythainlp's ``newmm`` engine cuts it with its bundled dictionary (no
    network, no model): ``ตะกั่ว``, ``ข้าว``. Each piece lies inside the
    index's words whenever the whole did, so a term that matched before still
    matches; pieces that are only stop words leave the term as it was.
    """
    pieces = [p for p in word_tokenize(term, engine="newmm", keep_whitespace=False) if p.strip()]
    kept = tuple(p for p in pieces if p not in STOP_WORDS)
    return kept or (term,)


def query_terms(text: str, limit: int = 8) -> list[str]:
    """The words of a query as typed, folded, without repeats or stop words.

    A query of stop words only ("the") keeps them: it then means what it says.
    """
    seen = dict.fromkeys(fold(text).split())
    kept = [w for w in seen if w not in STOP_WORDS] or list(seen)
    return kept[:limit]


def filter_words(text: str, limit: int = 8) -> list[str]:
    """What a record page's scope filter matches: the query's terms, Thai ones cut into words.

    Search tries a Thai term whole before cutting it, because over a whole
    register a short piece matches far more than was meant; within one
    record's scope every piece must still lie in the same line, so cutting at
    once loses nothing that matters and saves a second query.
    """
    words = [p for t in query_terms(text) for p in (segment(t) if has_thai(t) else (t,))]
    return list(dict.fromkeys(words))[:limit]


def words_of(body: str) -> set[str]:
    """The words a body is matched by: a query term must lie inside one of them.

    Built by ``set`` itself (the index loads some eight million words): only a
    body with a word longer than ``MAX_WORD`` takes the slower way, which cuts it.
    """
    words = set(body.split())
    if words and max(map(len, words)) > MAX_WORD:
        return {w[:MAX_WORD] for w in words}
    return words


def contains_pattern(term: str) -> str:
    """A LIKE pattern (escape ``\\``) matching ``term`` anywhere, wildcards taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def marks(value: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Where in ``value`` the terms occur, as merged (start, end) spans.

    Matching is on the folded text; where folding changes the length (a
    German ß) the spans could not be placed, so none are given.
    """
    folded = value.casefold()
    if len(folded) != len(value):
        return []
    spans = []
    for term in terms:
        start = folded.find(term)
        while term and start >= 0:
            spans.append((start, start + len(term)))
            start = folded.find(term, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
