"""gunicorn's settings and hooks for ``accredit run`` (``-c python:registry.cli.gunicorn_config``).

The master starts the daily calendar tick as a child process of its own
(never a thread: the master forks workers, and a thread holding a lock at the
fork would leave that lock held for ever in the worker).
"""

from __future__ import annotations

import subprocess
from typing import Any

from .ticks import start_daily_ticks

#: Threads per worker. With one (gunicorn's sync worker), a worker rendering a
#: page nobody has asked for since the last change held back every request queued
#: behind it, hits that cost a tenth of a millisecond included. ``make soak``
#: (120 s, 64 connections, a change a second, 2 workers): sync, QR p99 119 ms at
#: 1,633 requests/s; 4 threads, 56 ms at 2,769/s. More threads only share the same
#: interpreter lock: 8 to 32 gave a worse p99 in issue 16. Every request still has
#: its own budget (2 s per read, 15 s per write, 20 s per verification), because a
#: stuck thread, unlike a stuck sync worker, is not killed at ``timeout``.
worker_class = "gthread"
threads = 4
#: A worker silent this long is killed; a verification request stops at 20 s
#: (``verify_request_seconds``), so only a bug gets here.
timeout = 30
graceful_timeout = 30
#: Behind a proxy that keeps connections open (nginx ``keepalive``), a little longer than 2 s.
keepalive = 5
#: Workers are replaced after this many requests (spread out, so never all at once):
#: whatever a long life leaves behind (fragmented memory, a leak) is bounded.
max_requests = 5000
max_requests_jitter = 500
#: The request line gunicorn reads at most (its own maximum): longer lines get
#: gunicorn's bare 414 before the app sees them. The app's own limit (``web.guard``)
#: answers, with the security headers, behind servers that pass longer lines.
limit_request_line = 8190
#: Header count and size: generous for cookies and proxies, bounded for everyone.
limit_request_fields = 64
limit_request_field_size = 8190

_ticks: list[subprocess.Popen[bytes]] = []


def when_ready(server: Any) -> None:
    _ticks.append(start_daily_ticks())


def on_exit(server: Any) -> None:
    for ticks in _ticks:
        ticks.terminate()
