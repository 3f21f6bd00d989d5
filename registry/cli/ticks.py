"""``accredit tick``: store the status changes that the calendar alone makes.

Expiry and the end of a suspension change a status with no decision. Searches
derive those in memory; the tick writes them through the one write path, once
a day, so every process and every export agree without deriving again.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time as time_module
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import click
from flask.cli import with_appcontext

from .. import changes
from ..changes import SYSTEM, Change
from ..dates import BANGKOK, local_date
from ..db import Database
from ..search import index
from ..settings import Settings
from .base import database, require_schema, settings


def tick(database: Database, now: datetime) -> int:
    """Store the statuses that changed by the calendar alone; return how many."""
    day = local_date(now)
    with database.transaction() as session:
        due = index.due(session, day)
        if due:
            changes.record(
                session,
                Change(
                    action="register.tick",
                    target_type="register",
                    target_id=day.isoformat(),
                    actor=SYSTEM,
                    accreditations=due,
                    detail={"accreditations": len(due)},
                ),
                now,
            )
    return len(due)


log = logging.getLogger(__name__)
#: After midnight in Bangkok, so that the new day has begun everywhere it is read.
TICK_DELAY = timedelta(minutes=1)


def seconds_to_next_tick(now: datetime) -> float:
    tomorrow = local_date(now) + timedelta(days=1)
    due = datetime.combine(tomorrow, time(0), BANGKOK) + TICK_DELAY
    return max(1.0, (due - now).total_seconds())


def daily_ticks(found: Settings, stopped: threading.Event | None = None) -> None:
    """Tick now, then after every Bangkok midnight, until ``stopped`` or the parent exits.

    Its own process (``accredit tick --daily``), started by gunicorn's master
    (``gunicorn_config``) or by the development server: one tick a day however
    many workers serve, and no thread in a process that forks workers.
    """
    parent = os.getppid()
    stopped = stopped or threading.Event()
    while True:
        database = Database.from_url(found.database_url)
        try:
            count = tick(database, datetime.now(UTC))
            log.info("calendar tick: %d accreditations re-derived", count)
        except Exception:  # a bad night must not end the server's ticks
            log.exception("calendar tick failed; trying again tomorrow")
        finally:
            database.engine.dispose()
        deadline = time_module.monotonic() + seconds_to_next_tick(datetime.now(UTC))
        while time_module.monotonic() < deadline:
            if stopped.wait(min(60.0, deadline - time_module.monotonic())):
                return
            if os.getppid() != parent:
                return


def start_daily_ticks() -> subprocess.Popen[bytes]:
    """``accredit tick --daily`` as a child process of the server."""
    accredit = Path(sys.executable).parent / "accredit"
    command = [str(accredit)] if accredit.exists() else [sys.executable, "-m", "registry.cli"]
    return subprocess.Popen([*command, "tick", "--daily"])


@click.command("tick")
@click.option(
    "--daily",
    is_flag=True,
    help="Keep running: tick now and after every Bangkok midnight (`accredit run` starts this).",
)
@with_appcontext
def tick_command(daily: bool) -> None:
    """Store today's calendar-driven status changes."""
    require_schema()
    if daily:
        daily_ticks(settings())
        return
    count = tick(database(), datetime.now(UTC))
    click.echo(f"{count} accreditations re-derived for {local_date(datetime.now(UTC))}")
