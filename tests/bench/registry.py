"""Issue 5: QR landing throughput against hello-world, and search latency.

``landing``: gunicorn with 2 workers serves the QR landing page of a 10,000-body
register; wrk (Debian) loads it from loopback for a fixed time, then the same
for a bare Flask hello-world app under the same gunicorn settings. Target: the
ratio is at least 0.6.

``search``: p50 and p95 of a fixed mix of 200 queries over 100,000 bodies
(about a million scope items), in-process, on SQLite and on PostgreSQL, and
what building the in-memory index costs, each backend in a fresh process.
Targets (issue 15): p95 <= 10 ms with Thai segmentation and matching lines,
the index built in <= 5 s within <= 250 MB. The register is built once per backend and kept in
``.bench/`` (git-ignored) so that reruns skip the load.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry import db
from registry.db import Database
from registry.register.models import Accreditation, ScopeItem
from registry.search.bitmaps import snapshots
from registry.search.query import SearchQuery, search
from registry.search.text import load_segmenter
from registry.web import current

from ..documents import demo_instance, issue_certificates, load_demo
from . import benchmark

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / ".bench"
SECONDS = 8
CONNECTIONS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def gunicorn(app: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    binary = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [
            str(binary),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        env=env,
        cwd=ROOT,
    )


def wrk(url: str) -> float:
    """Requests per second; loopback only, bounded by ``SECONDS``."""
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{SECONDS}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses from {url}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def serve_and_load(app: str, env: dict[str, str], path: str) -> float:
    port = free_port()
    server = gunicorn(app, env, port)
    try:
        wait_for(port)
        url = f"http://127.0.0.1:{port}{path}"
        wrk(url.replace(path, path))  # warm both workers
        return wrk(url)
    finally:
        server.terminate()
        server.wait(timeout=10)


@benchmark("landing")
def landing(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        print("   wrk is not installed (Debian package wrk); skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "instance"
        app = demo_instance(folder, 10_000, PUBLIC_URL="http://127.0.0.1")
        urls = [i.certificate.qr_url for i in issue_certificates(app, 3)]
        current.database(app).engine.dispose()
        path = "/" + urls[0].split("/", 3)[3]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
        env.update({"ACCREDIT_INSTANCE": str(folder), "ACCREDIT_PUBLIC_URL": "http://127.0.0.1"})
        hello = serve_and_load("tests.bench.hello:app", env, "/")
        page = serve_and_load("registry.app:create_app()", env, path)
        print(f"   QR landing (10,000 bodies): {page:,.0f} requests/s")
        print(f"   hello-world baseline:       {hello:,.0f} requests/s")
        print(
            f"   ratio {page / hello:.2f}x (target >= 0.6x); gunicorn 2 workers, wrk "
            f"{CONNECTIONS} connections, {SECONDS} s each, loopback"
        )


QUERY_MIX_SEED = 20261125


def query_mix(session: Session, count: int = 200) -> list[dict[str, str]]:
    """A fixed mix drawn from the register itself: names, numbers, tests, methods."""
    rng = random.Random(QUERY_MIX_SEED)
    items = session.execute(
        select(
            ScopeItem.product_en,
            ScopeItem.product_th,
            ScopeItem.parameter_en,
            ScopeItem.parameter_th,
            ScopeItem.method,
        ).limit(5000)
    ).all()
    accs = session.execute(select(Accreditation.number).limit(5000)).scalars().all()
    words_en = [
        "lead",
        "rice",
        "shrimp",
        "tuna",
        "glove",
        "tensile",
        "salmonella",
        "steel",
        "voltage",
        "mercury",
        "aflatoxin",
        "siam",
        "chon buri",
        "bangkok",
        "pressure",
    ]
    words_th = ["ตะกั่ว", "ข้าว", "กุ้ง", "ทูน่า", "ถุงมือ", "แรงดึง", "เหล็ก", "ปรอท", "สยาม"]
    # Thai as people write it, without spaces: each is segmented before matching (issue 15).
    written_th = ["ตะกั่วในข้าว", "ความชื้นข้าว", "ปรอทในปลาทูน่า", "ห้องปฏิบัติการเชียงใหม่"]
    mix: list[dict[str, str]] = []
    kinds = [
        "word_en",
        "word_th",
        "written_th",
        "product",
        "parameter_th",
        "method",
        "number",
        "filtered",
    ]
    while len(mix) < count:
        kind = kinds[len(mix) % len(kinds)]
        if kind == "word_en":
            mix.append({"q": rng.choice(words_en)})
        elif kind == "word_th":
            mix.append({"q": rng.choice(words_th)})
        elif kind == "written_th":
            mix.append({"q": rng.choice(written_th)})
        elif kind == "product":
            mix.append({"q": rng.choice(items)[rng.choice([0, 1])]})
        elif kind == "parameter_th":
            mix.append({"q": rng.choice(items)[3][:6]})
        elif kind == "method":
            mix.append({"q": rng.choice(items)[4]})
        elif kind == "number":
            mix.append({"q": rng.choice(accs)})
        else:
            mix.append(
                {
                    "q": rng.choice(words_en),
                    "status": "all",
                    "programme": "testing",
                    "page": str(rng.randint(1, 5)),
                }
            )
    return mix


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def in_a_fresh_process(function: Any, *args: Any) -> None:
    """Run ``function`` in a new interpreter: its memory figure owes nothing to the last one."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pool.apply(function, args)


def search_backend(url: str, label: str) -> None:
    engine = db.make_engine(url)
    gc.collect()
    with Session(engine) as session:
        session.execute(select(1))  # connected, before the memory is read
        # Thai segmentation's dictionary is the same for any register (a worker loads it
        # with its index, or at its first Thai query): measured apart from the index.
        started, before = time.perf_counter(), resident_mb()
        load_segmenter()
        print(
            f"   {label}: Thai word list loaded in {time.perf_counter() - started:.1f} s, "
            f"{resident_mb() - before:.0f} MB (the same for any register)"
        )
        before = resident_mb()
        started = time.perf_counter()
        snapshots.current(session, datetime.now(UTC))
        took = time.perf_counter() - started
        grown = resident_mb() - before
        print(
            f"   {label}: in-memory index built in {took:.1f} s (target <= 5 s), "
            f"the process grew {grown:.0f} MB (target <= 250 MB)"
        )
        mix = query_mix(session)
        now = datetime.now(UTC)
        samples = []
        for args in mix:
            snapshots.current(session, now).terms.clear()  # every query pays its database match
            started = time.perf_counter()
            search(session, SearchQuery.from_args(args), now)
            samples.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(
        f"   {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {samples[-1]:.1f} ms over "
        f"{len(samples)} queries, segmentation and matching lines included (target p95 <= 10 ms)"
    )


def prepared(url: str, marker: Path) -> None:
    """Load 100,000 demo bodies into ``url`` once; the marker records it."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    if marker.exists() and marker.read_text() == url:
        engine.dispose()
        return
    started = time.perf_counter()
    load_demo(Database(engine), 100_000)
    engine.dispose()
    print(f"   loaded 100,000 bodies in {time.perf_counter() - started:.0f} s")
    marker.write_text(url)


@benchmark("search")
def search_latency(args: argparse.Namespace) -> None:
    BENCH.mkdir(exist_ok=True)
    sqlite_url = f"sqlite:///{BENCH / 'search.sqlite3'}"
    prepared(sqlite_url, BENCH / "search.sqlite3.ready")
    with Session(db.make_engine(sqlite_url)) as session:
        items = session.query(ScopeItem).count()
    print(f"   register: 100,000 bodies, {items:,} scope items")
    in_a_fresh_process(search_backend, sqlite_url, "SQLite")
    pg_url = "postgresql+psycopg://postgres@127.0.0.1:5432/accredit_bench"
    try:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            if not c.execute("SELECT 1 FROM pg_database WHERE datname='accredit_bench'").fetchone():
                c.execute("CREATE DATABASE accredit_bench")
                (BENCH / "search.pg.ready").unlink(missing_ok=True)
    except psycopg.Error as exc:
        print(f"   PostgreSQL unreachable ({exc}); skipped")
        return
    prepared(pg_url, BENCH / "search.pg.ready")
    in_a_fresh_process(search_backend, pg_url, "PostgreSQL")
