"""Text as search sees it: cleaned, folded, split into words, matched literally.

The same folding serves the search index, the query and the record pages'
scope filter, so a word found in one is found in the others.
"""

from __future__ import annotations

import re
import unicodedata

#: The longest search or filter text accepted, in characters.
MAX_TEXT = 200
#: The longest word kept in the index.
MAX_WORD = 300

_CONTROL = re.compile(r"[\x00-\x1f\x7f\ufffd]")


def clean_text(value: str) -> str:
    """Drop control characters and undecodable bytes; normalise to NFC."""
    return " ".join(unicodedata.normalize("NFC", _CONTROL.sub(" ", value)).split())


def fold(value: str) -> str:
    return clean_text(value).casefold()


def words_of(body: str) -> set[str]:
    """The words a body is matched by: a query term must lie inside one of them."""
    return {w[:MAX_WORD] for w in body.split()}


def contains_pattern(term: str) -> str:
    """A LIKE pattern (escape ``\\``) matching ``term`` anywhere, wildcards taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
