"""``make bench`` must at least start: every benchmark module imports, and each is registered."""

from __future__ import annotations

import importlib


def test_every_benchmark_module_imports_and_registers():
    bench = importlib.import_module("tests.bench.__main__")
    assert {
        "documents",
        "log",
        "office",
        "landing",
        "search",
        "signing",
        "verification",
    } <= set(bench.BENCHMARKS)
