"""QR mask selection by the ISO/IEC 18004 penalty rules, fast.

The ``qrcode`` library builds and scores the eight masked symbols module by
module in Python, about 25 ms per certificate. Here the symbol is built once;
each mask is then applied to the data modules as whole rows of bits, and the
four penalty rules are counted on strings and integers. The choice is the
library's own (a test compares them); only the arithmetic is faster.
"""

from __future__ import annotations

import re
from functools import cache
from itertools import pairwise

from qrcode import util
from qrcode.main import QRCode, copy_2d_array, precomputed_qr_blanks

FINDER = re.compile(r"(?=(10111010000|00001011101))")
RUNS = re.compile(r"0{5,}|1{5,}")


def _score(rows: list[str]) -> int:
    n = len(rows)
    columns = ["".join(column) for column in zip(*rows, strict=True)]
    # One string with a separator, so that runs and patterns never cross lines.
    lines = "2".join(rows + columns)
    # N1: runs of five or more modules of one colour; N3: finder-like patterns.
    score = sum(len(run) - 2 for run in RUNS.findall(lines))
    score += 40 * len(FINDER.findall(lines))
    ints = [int(row, 2) for row in rows]
    inner = (1 << (n - 1)) - 1
    for upper, lower in pairwise(ints):
        # N2: 2x2 blocks of one colour.
        dark = upper & lower & (upper >> 1) & (lower >> 1) & inner
        light = ~(upper | lower | (upper >> 1) | (lower >> 1)) & inner
        score += 3 * (dark.bit_count() + light.bit_count())
    # N4: balance of dark modules.
    percent = sum(value.bit_count() for value in ints) * 100 / (n * n)
    return score + 10 * int(abs(percent - 50) // 5)


def penalty(matrix: list[list[bool]]) -> int:
    return _score(["".join("1" if cell else "0" for cell in row) for row in matrix])


@cache
def _mask_rows(size: int, pattern: int) -> tuple[int, ...]:
    function = util.mask_func(pattern)
    return tuple(
        int("".join("1" if function(r, c) else "0" for c in range(size)), 2) for r in range(size)
    )


def best_mask(code: QRCode) -> int:
    """The mask with the lowest penalty, as ``QRCode.best_mask_pattern`` chooses."""
    code.makeImpl(True, 0)
    size = code.modules_count
    symbol = [int("".join("1" if m else "0" for m in row), 2) for row in code.modules]
    # Which modules hold data: those still empty after the function patterns.
    code.modules = copy_2d_array(precomputed_qr_blanks[code.version])
    code.setup_type_info(True, 0)
    if code.version >= 7:
        code.setup_type_number(True)
    data = [int("".join("1" if m is None else "0" for m in row), 2) for row in code.modules]
    mask0 = _mask_rows(size, 0)
    plain = [(s ^ m) & d for s, m, d in zip(symbol, mask0, data, strict=True)]
    fixed = [s & ~d for s, d in zip(symbol, data, strict=True)]
    best = None
    for pattern in range(8):
        mask = _mask_rows(size, pattern)
        rows = [
            format(f | ((p ^ m) & d), f"0{size}b")
            for f, p, m, d in zip(fixed, plain, mask, data, strict=True)
        ]
        candidate = (_score(rows), pattern)
        best = candidate if best is None or candidate < best else best
    assert best is not None
    return best[1]
