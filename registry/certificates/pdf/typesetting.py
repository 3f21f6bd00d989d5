"""Line breaking for Thai and English, and text that extracts as it was written.

fpdf2 breaks lines only at spaces, and Thai has none between words: left to
itself it splits words anywhere. Here lines are laid out by us, at word
boundaries found by pythainlp's ``newmm`` segmenter (pure Python; PyICU would
need the ICU headers). A word wider than the line is split between grapheme
clusters, never before a combining mark, so nothing is ever cut off.

Shaped Thai (harfbuzz reorders and decomposes marks, e.g. SARA AM) does not
map back to the input through the font's ToUnicode alone: poppler then yields
"จำ กัด" for "จำกัด". Each drawn line is therefore wrapped in a marked-content
span whose /ActualText is the original string, which extractors use instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from pythainlp.tokenize import word_tokenize

THAI = re.compile(r"[\u0e00-\u0e7f]")
#: Thai marks that attach to the preceding character and never start a line.
THAI_COMBINING = frozenset(
    "\u0e31\u0e33"
    + "".join(chr(c) for c in range(0x0E34, 0x0E3B))
    + "".join(chr(c) for c in range(0x0E47, 0x0E4F))
)


def is_combining(char: str) -> bool:
    return char in THAI_COMBINING or unicodedata.combining(char) > 0


@lru_cache(maxsize=65536)
def words(text: str) -> tuple[str, ...]:
    """Tokens to break between: Thai words, Latin words and the spaces between them."""
    if not THAI.search(text):
        return tuple(t for t in re.split(r"(\s+)", text) if t)
    return tuple(t for t in word_tokenize(text, engine="newmm", keep_whitespace=True) if t)


def clusters(word: str) -> list[str]:
    """Grapheme clusters: a base character with the marks that follow it."""
    out: list[str] = []
    for char in word:
        if out and is_combining(char):
            out[-1] += char
        else:
            out.append(char)
    return out


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Lines of at most ``width`` (as ``measure`` counts), broken between words.

    A line's width is taken as the sum of its words' widths: Thai clusters
    never cross a word boundary, so shaping words one by one gives the same
    advances, and each distinct word is measured once, not every prefix.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0.0
        for token in words(paragraph):
            size = measure(token)
            if token.isspace():
                if line:
                    line, used = line + token, used + size
                continue
            if (used + size <= width or not line.strip()) and size <= width:
                line, used = line + token, used + size
                continue
            if line.strip():
                lines.append(line.rstrip())
            line, used = "", 0.0
            if size <= width:
                line, used = token, size
                continue
            # A single word wider than the line: break between clusters.
            for piece in clusters(token):
                piece_size = measure(piece)
                if line and used + piece_size > width:
                    lines.append(line)
                    line, used = "", 0.0
                line, used = line + piece, used + piece_size
        lines.append(line.rstrip())
    return lines
