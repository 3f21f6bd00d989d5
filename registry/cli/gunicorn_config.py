"""gunicorn's settings and hooks for ``accredit run`` (``-c python:registry.cli.gunicorn_config``).

The master starts the daily calendar tick as a child process of its own
(never a thread: the master forks workers, and a thread holding a lock at the
fork would leave that lock held for ever in the worker).
"""

from __future__ import annotations

import subprocess
from typing import Any

from .ticks import start_daily_ticks

timeout = 30
graceful_timeout = 30
keepalive = 5

_ticks: list[subprocess.Popen[bytes]] = []


def when_ready(server: Any) -> None:
    _ticks.append(start_daily_ticks())


def on_exit(server: Any) -> None:
    for ticks in _ticks:
        ticks.terminate()
