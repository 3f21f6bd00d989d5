"""``make soak``: 64 connections on QR, record and search pages while the register changes.

A throwaway instance (demo bodies, a few certificates) is served by ``accredit
run`` (gunicorn, 2 workers) on loopback. wrk (Debian) holds 64 connections for
``SOAK_SECONDS`` (default 600): 32 on QR landing pages, 16 on record pages
(``/a/`` and ``/c/``) and 16 on search. Meanwhile a writer process issues
certificates and records decisions through the product's own write path
(``issue``, ``acts.decisions.record``, the log signed after each), as staff
would, one change a second (``SOAK_CHANGE_SECONDS``; 0 for reads alone). At
the end it prints the figures the issue sets: errors (non-2xx/3xx answers,
socket errors, failed writes; target 0), the QR page's p99 latency (target
<= 100 ms) and the workers' memory growth after the warm-up (the first sixth of
the run; target <= 10 %).

Then (``SOAK_PATHS``, default 200,000; 0 skips it) the same server answers that
many unique paths, each asked once: unknown certificate numbers, junk QR
tokens, unknown accreditation numbers, and real record pages each with a
scope filter of its own (a 200 the page cache does keep). The workers' memory
after them, against before, must grow by no more than the page cache's budget
(64 MiB): the cache counts its keys and headers, and drops what it cannot hold.

Worker recycling (``max_requests`` in ``registry/cli/gunicorn_config.py``) is
turned off for the run (``SOAK_RECYCLE=1`` keeps it): it would hide a leak by
replacing the worker, which is what this run is meant to see. Rate limits are
raised for the run: every connection comes from 127.0.0.1, one client.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from urllib.request import urlopen

from registry.web.caching import PAGE_CACHE_BYTES

from ..documents import demo_instance, issue_certificates, valid_numbers

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
#: Seconds between two changes of the register; 0: no writer (the reads alone).
PAUSE = float(os.environ.get("SOAK_CHANGE_SECONDS", "1"))
BODIES = int(os.environ.get("SOAK_BODIES", "200"))
SEARCHES = ["rice", "ข้าว", "shrimp", "กุ้ง", "steel", "lead", "gloves", "Bangkok", "ISO 15189"]
#: Connections per load: 64 in all.
LOADS = {"qr": 32, "records": 16, "search": 16}
PATHS = int(os.environ.get("SOAK_PATHS", "200000"))
CACHE_BUDGET_MB = PAGE_CACHE_BYTES // (1024 * 1024)

WRITER = """
import json, sys, time
from datetime import UTC, datetime
from registry.acts.decisions import record
from registry.app import create_app
from registry.certificates.issuance import IssuanceRefused, find_accreditation, issue
from registry.changes import DEVELOPMENT
from registry.pki.material import get_document_signer, publish_log
from registry.register.standings import standings
from registry.register.status import AccreditationStatus, EventKind
from registry.staff.models import RoleGrant, StaffRole, StaffUser
from registry.web import current

app = create_app({"INSTANCE": sys.argv[1]})
numbers = sys.argv[3].split(",")
deadline = time.monotonic() + float(sys.argv[2])
database = current.database(app)
signer = get_document_signer(app)
with database.transaction() as session:
    officer = StaffUser(email="soak-officer@example.test", name="Officer")
    approver = StaffUser(email="soak-approver@example.test", name="Approver")
    session.add_all([officer, approver])
    session.flush()
    session.add_all([RoleGrant(staff_id=officer.id, role=StaffRole.OFFICER),
                     RoleGrant(staff_id=approver.id, role=StaffRole.DECISION_MAKER)])
    ids = officer.id, approver.id
done = {"issued": 0, "decided": 0, "failed": 0}
n = 0
while time.monotonic() < deadline:
    n += 1
    number = numbers[n % len(numbers)]
    try:
        with database.transaction() as session:
            acc = find_accreditation(session, number)
            if n % 2:
                issue(session, acc, signer, current.settings(app), actor=DEVELOPMENT)
                done["issued"] += 1
            else:
                now = datetime.now(UTC)
                state = standings(session, now, [acc.id])[acc.id].status
                kind = (EventKind.REINSTATED if state is AccreditationStatus.SUSPENDED
                        else EventKind.SUSPENDED)
                officer, approver = session.get(StaffUser, ids[0]), session.get(StaffUser, ids[1])
                record(session, acc, kind, now.date(), proposed_by=officer, approved_by=approver,
                       reason_en=f"soak {n}")
                done["decided"] += 1
        publish_log(current.settings(app), database)
    except IssuanceRefused:
        pass
    except Exception as exc:
        done["failed"] += 1
        print("write failed:", repr(exc)[:300], file=sys.stderr, flush=True)
    time.sleep(float(sys.argv[4]))
print(json.dumps(done), flush=True)
"""

LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server did not start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port}")


def workers_of(master: int) -> dict[int, float]:
    """The gunicorn workers (children of ``master`` serving the app) and their RSS in MB."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = re.search(r"^PPid:\s+(\d+)", status, re.M)
        rss = re.search(r"^VmRSS:\s+(\d+)", status, re.M)
        if parent and rss and int(parent.group(1)) == master and b"serve()" in cmdline:
            found[int(entry.name)] = int(rss.group(1)) / 1024
    return found


def wrk(base: str, paths: list[str], connections: int, seconds: int, folder: Path) -> Any:
    script = folder / f"paths-{connections}-{len(paths)}.lua"
    script.write_text(LUA % ", ".join(json.dumps(p) for p in paths))
    return subprocess.Popen(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def figures(output: str) -> dict[str, Any]:
    def number(pattern: str) -> float:
        found = re.search(pattern, output)
        return float(found.group(1)) if found else 0.0

    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", output, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "requests": int(number(r"(\d+) requests in")),
        "per_second": number(r"Requests/sec:\s+([\d.]+)"),
        "p99_ms": round(float(p99.group(1)) * scale[p99.group(2)], 1) if p99 else None,
        "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": sum(map(int, sockets.groups())) if sockets else 0,
        "sockets": sockets.group(0) if sockets else "no socket errors",
    }


def unique_path(n: int, numbers: list[str]) -> str:
    """The ``n``-th of the unique paths: three kinds nothing stores, one that is kept."""
    kind = n % 4
    if kind == 0:
        return f"/c/Testing-{n:07}/R{n % 9 + 1}"
    if kind == 1:
        return f"/V/{n:08x}junk"
    if kind == 2:
        return f"/a/Calibration-{n:07}"
    return f"/a/{numbers[n % len(numbers)]}?q=w{n}"


def ask_unique_paths(port: int, count: int, numbers: list[str]) -> dict[str, int]:
    """Ask each of ``count`` unique paths once, from 8 threads; count the answers by status."""
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    turns = iter(range(count))

    def client() -> None:
        seen: Counter[str] = Counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for n in iter(lambda: next(turns, None), None):
            try:
                connection.request("GET", unique_path(n, numbers))
                answer = connection.getresponse()
                answer.read()
                seen[str(answer.status)] += 1
                if answer.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                seen["socket error"] += 1
                connection.close()
        with lock:
            statuses.update(seen)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(statuses)


def paths_phase(port: int, master: int, numbers: list[str]) -> tuple[bool, list[str]]:
    """``SOAK_PATHS`` unique paths; the workers' memory before and after, judged and told."""
    before = workers_of(master)
    started = time.monotonic()
    statuses = ask_unique_paths(port, PATHS, numbers)
    elapsed = time.monotonic() - started
    after = workers_of(master)
    told = [f"\nunique paths: {PATHS} in {elapsed:.0f} s, answers {statuses}"]
    kept = sorted(set(before) & set(after))
    growth = [after[p] - before[p] for p in kept]
    for pid in kept:
        told.append(f"  worker {pid}: {before[pid]:.0f} MB before, {after[pid]:.0f} MB after")
    worst = max(growth, default=0.0)
    failed = sum(v for k, v in statuses.items() if k not in ("200", "400", "404"))
    told.append(
        f"  worst growth {worst:+.1f} MB (target <= the page cache's {CACHE_BUDGET_MB} MiB); "
        f"unexpected answers {failed} (target 0)"
    )
    ok = len(kept) == len(after) and worst <= CACHE_BUDGET_MB and failed == 0
    return ok, told


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian package wrk: make system-deps)")
        return 2
    folder = Path(tempfile.mkdtemp(prefix="accredit-soak-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"building the register ({BODIES} bodies) in {folder} ...", flush=True)
    app = demo_instance(folder / "instance", BODIES, PUBLIC_URL=base)
    issued = issue_certificates(app, 8)
    numbers = valid_numbers(app)
    qr = [urlsplit(i.certificate.qr_url).path for i in issued]
    records = [f"/a/{n}" for n in numbers[:20]] + [f"/c/{i.certificate.number}" for i in issued]
    search = [f"/search?q={quote(term)}" for term in SEARCHES]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    env |= {
        "ACCREDIT_INSTANCE": str(folder / "instance"),
        "ACCREDIT_PUBLIC_URL": base,
        "ACCREDIT_RATE_LIMIT": "1000000 per minute",
        "PYTHONPATH": str(ROOT),
    }
    gunicorn = os.environ.get("SOAK_GUNICORN_ARGS", "").split()  # to try other settings
    if os.environ.get("SOAK_RECYCLE") != "1":
        gunicorn.append("--max-requests=0")
    env["GUNICORN_CMD_ARGS"] = " ".join(gunicorn)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "accredit"), "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(port, server)
        # A cold worker takes seconds for its first page and its first search (templates,
        # the search snapshot, the Thai word list): 64 connections at once would time out
        # on that, not on the soak. So each page is asked for a few times first.
        for path in qr + records + search:
            for _ in range(3):
                with urlopen(base + path, timeout=60) as answer:
                    answer.read()
        print(f"soaking {SECONDS} s: 64 connections, a change a second ...", flush=True)
        started = time.monotonic()
        loads = {
            "qr": wrk(base, qr, LOADS["qr"], SECONDS, folder),
            "records": wrk(base, records, LOADS["records"], SECONDS, folder),
            "search": wrk(base, search, LOADS["search"], SECONDS, folder),
        }
        writer = (
            None
            if PAUSE <= 0
            else subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WRITER,
                    str(folder / "instance"),
                    str(SECONDS - 5),
                    ",".join(numbers[20:40] or numbers),
                    str(PAUSE),
                ],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
        time.sleep(max(5, SECONDS // 6))
        warm = workers_of(server.pid)
        outputs = {name: load.communicate()[0] for name, load in loads.items()}
        end = workers_of(server.pid)
        writes = {"issued": 0, "decided": 0, "failed": 0}
        if writer is not None:
            writes = json.loads(writer.communicate()[0].strip().splitlines()[-1])
        elapsed = time.monotonic() - started
        paths_ok, paths_told = (
            paths_phase(port, server.pid, numbers[:20]) if PATHS > 0 else (True, [])
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    results = {name: figures(out) for name, out in outputs.items()}
    errors = sum(r["non_2xx"] + r["socket_errors"] for r in results.values()) + writes["failed"]
    print(f"\nsoak: {elapsed:.0f} s against gunicorn (2 workers) on {base}")
    for name, r in results.items():
        print(
            f"  {name:8} {LOADS[name]:2} connections: {r['requests']} requests, "
            f"{r['per_second']:.0f}/s, p99 {r['p99_ms']} ms, "
            f"{r['non_2xx']} non-2xx/3xx; {r['sockets']}"
        )
    print(f"  writes: {writes['issued']} certificates issued, {writes['decided']} decisions")
    kept = sorted(set(warm) & set(end))
    growth = [(end[p] - warm[p]) / warm[p] * 100 for p in kept]
    for pid in kept:
        print(f"  worker {pid}: {warm[pid]:.0f} MB after warm-up, {end[pid]:.0f} MB at the end")
    if len(kept) < len(end):
        print(f"  {len(end) - len(kept)} worker(s) were replaced during the run")
    qr_p99 = results["qr"]["p99_ms"]
    worst = max(growth, default=0.0)
    print(
        f"\n  errors {errors} (target 0); QR p99 {qr_p99} ms (target <= 100); "
        f"worker memory growth after warm-up {worst:+.1f} % (target <= 10 %)"
    )
    print("\n".join(paths_told))
    shutil.rmtree(folder, ignore_errors=True)
    ok = errors == 0 and qr_p99 is not None and qr_p99 <= 100 and worst <= 10 and paths_ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
