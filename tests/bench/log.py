"""Issue 10: the transparency log at 1,000,000 leaves.

A register instance whose log holds a million leaves is built once in
``.bench/`` (SQLite). Then, each beside a baseline measured in the same run:

- appending a leaf (its hash and every tile hash it completes), amortised over
  1,000 appends, against inserting one plain row, in one transaction and each
  in its own;
- an inclusion proof for a random leaf, against one primary-key read;
- ``accredit log verify`` over the million leaves, against hashing them alone;
- serving full tiles with gunicorn, against the bare hello-world app.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from registry import db
from registry.app import create_app
from registry.log import store
from registry.pki.material import create_pki, publish_log
from registry.web import current
from verifier import merkle

from . import benchmark
from .registry import BENCH, serve_and_load

LEAVES = 1_000_000
BATCH = 20_000
SAMPLES = 300


def build(folder: Path) -> Flask:
    marker = folder / "ready"
    url = f"sqlite:///{folder / 'accredit.sqlite3'}"
    folder.mkdir(parents=True, exist_ok=True)
    app = create_app({"INSTANCE": str(folder), "DATABASE_URL": url})
    if marker.exists():
        return app
    database = current.database(app)
    db.upgrade(database.engine)
    create_pki(current.settings(app))
    started = time.perf_counter()
    now = datetime.now(UTC)
    for start in range(0, LEAVES, BATCH):
        with database.transaction() as session:
            store.append_many(
                session,
                (
                    ("bench.leaf", f'{{"n":{i},"type":"bench.leaf","v":1}}'.encode(), now)
                    for i in range(start, start + BATCH)
                ),
                start=start,
            )
    print(f"   built a log of {LEAVES:,} leaves in {time.perf_counter() - started:.0f} s (bulk)")
    publish_log(current.settings(app), database)
    marker.write_text(url)
    return app


def per_call_ms(call, samples: int = SAMPLES) -> tuple[float, float]:
    seen = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        seen.append((time.perf_counter() - started) * 1000)
    seen.sort()
    return statistics.median(seen), seen[int(len(seen) * 0.95) - 1]


@benchmark("log")
def log(args: argparse.Namespace) -> None:
    folder = BENCH / "log-instance"
    app = build(folder)
    database = current.database(app)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS bench_row (id INTEGER PRIMARY KEY, data BLOB)"
        )
    now = datetime.now(UTC)

    leaf = b'{"type":"bench.leaf","v":1}'

    def own_transactions(work) -> float:
        """ms per item over ``SAMPLES`` items, each in its own transaction (with its commit)."""
        started = time.perf_counter()
        for _ in range(SAMPLES):
            with database.transaction() as session:
                work(session)
        return (time.perf_counter() - started) * 1000 / SAMPLES

    def one_transaction(work, count: int = 1000) -> float:
        """ms per item over ``count`` items in one transaction: the cost without the commit,
        which belongs to the fact the leaf records."""
        with database.transaction() as session:
            started = time.perf_counter()
            for _ in range(count):
                work(session)
            return (time.perf_counter() - started) * 1000 / count

    def append_leaf(session) -> None:
        store.append(session, "bench.leaf", leaf, now)

    def insert_row(session) -> None:
        session.execute(text("INSERT INTO bench_row (data) VALUES (:d)"), {"d": b"x" * 40})

    leaf_ms, row_ms = one_transaction(append_leaf), one_transaction(insert_row)
    own_leaf_ms, own_row_ms = own_transactions(append_leaf), own_transactions(insert_row)
    print(
        f"   append a leaf and its tile hashes at {LEAVES:,}, amortised over 1,000: "
        f"{leaf_ms:.2f} ms ({leaf_ms / row_ms:.1f}x one plain insert, {row_ms:.3f} ms); "
        f"target <= 1 ms: {'met' if leaf_ms <= 1 else 'NOT met'}"
    )
    print(
        f"   the same, each in its own transaction with its commit: {own_leaf_ms:.2f} ms "
        f"({own_leaf_ms / own_row_ms:.1f}x one plain insert so, {own_row_ms:.2f} ms)"
    )
    with database.session() as session:
        size = store.size(session)
        rng = random.Random(10)
        proof_p50, proof_p95 = per_call_ms(
            lambda: store.inclusion(session, rng.randrange(size), size)
        )
        read_p50, _ = per_call_ms(
            lambda: session.execute(
                text('SELECT data FROM log_entry WHERE "index" = :i'), {"i": rng.randrange(size)}
            ).one()
        )
    print(
        f"   inclusion proof at {size:,}: p50 {proof_p50:.2f} ms, p95 {proof_p95:.2f} ms "
        f"({proof_p50 / read_p50:.1f}x one primary-key read); target <= 2 ms: "
        f"{'met' if proof_p95 <= 2 else 'NOT met'}"
    )
    publish_log(current.settings(app), database)

    with database.session() as session:
        entries = [
            r[0] for r in session.execute(text('SELECT data FROM log_entry ORDER BY "index"'))
        ]
    started = time.perf_counter()
    for entry in entries:
        merkle.leaf_hash(entry)
    hashing = time.perf_counter() - started
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    env["ACCREDIT_INSTANCE"] = str(folder)
    started = time.perf_counter()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "accredit"), "log", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    verify = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    print(
        f"   accredit log verify over {len(entries):,} leaves: {verify:.1f} s "
        f"({verify / hashing:.1f}x hashing them alone, {hashing:.1f} s); target <= 60 s: "
        f"{'met' if verify <= 60 else 'NOT met'}"
    )
    database.engine.dispose()

    env["ACCREDIT_PUBLIC_URL"] = "http://127.0.0.1"
    hello = serve_and_load("tests.bench.hello:app", env, "/")
    tiles = serve_and_load("registry.app:create_app()", env, "/log/tile/0/x001/234")
    print(
        f"   full tile over gunicorn: {tiles:,.0f} requests/s against hello-world {hello:,.0f} "
        f"({tiles / hello:.2f}x)"
    )
