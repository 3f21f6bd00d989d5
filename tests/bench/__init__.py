"""Benchmarks for ``make bench``; each module registers itself with ``benchmark``."""

from __future__ import annotations

import argparse
from collections.abc import Callable

Bench = Callable[[argparse.Namespace], None]
BENCHMARKS: dict[str, Bench] = {}


def benchmark(name: str) -> Callable[[Bench], Bench]:
    def register(func: Bench) -> Bench:
        BENCHMARKS[name] = func
        return func

    return register
