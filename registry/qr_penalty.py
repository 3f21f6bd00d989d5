"""QR mask selection by the ISO/IEC 18004 penalty rules, computed on row bitmasks.

The ``qrcode`` library evaluates the eight masks module by module in Python,
about 20 ms per certificate; the same four rules over integers (one per row
and column) give the same choice in a fraction of that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

FINDER = re.compile(r"(?=(10111010000|00001011101))")


def _lines(matrix: Sequence[Sequence[bool]]) -> list[str]:
    rows = ["".join("1" if cell else "0" for cell in row) for row in matrix]
    columns = ["".join(row[i] for row in rows) for i in range(len(rows))]
    return rows + columns


def penalty(matrix: Sequence[Sequence[bool]]) -> int:
    n = len(matrix)
    lines = _lines(matrix)
    score = 0
    # N1: runs of five or more modules of one colour, in rows and columns.
    for line in lines:
        for run in re.findall(r"0{5,}|1{5,}", line):
            score += 3 + len(run) - 5
    # N2: 2x2 blocks of one colour.
    ints = [int(line, 2) for line in lines[:n]]
    full = (1 << n) - 1
    for upper, lower in pairwise(ints):
        dark = upper & lower & (upper >> 1) & (lower >> 1) & (full >> 1)
        light = ~(upper | lower | (upper >> 1) | (lower >> 1)) & (full >> 1)
        score += 3 * (dark.bit_count() + light.bit_count())
    # N3: finder-like 1:1:3:1:1 patterns with four light modules on a side.
    for line in lines:
        score += 40 * len(FINDER.findall(line))
    # N4: balance of dark modules.
    dark_modules = sum(row.bit_count() for row in ints)
    percent = dark_modules * 100 / (n * n)
    score += 10 * int(abs(percent - 50) // 5)
    return score


def best_mask(code: object) -> int:
    """The mask with the lowest penalty, as ``QRCode.best_mask_pattern`` chooses."""
    scores = []
    for mask in range(8):
        code.makeImpl(True, mask)  # type: ignore[attr-defined]
        scores.append((penalty(code.modules), mask))  # type: ignore[attr-defined]
    return min(scores)[1]
