"""Uploaded PDFs are verified in worker processes, so that no file can take the site down.

A hostile PDF can keep a parser busy for its whole budget, and twenty of them
in one request would hold a web worker far past gunicorn's timeout; two such
clients would leave the QR pages unanswered. So, for each web worker:

- files go, one at a time, to a verification process of its own, made from a
  clean forkserver (never a fork of the web worker, with its connections);
- a file still running at ``verify_file_seconds`` has its process killed (a
  hard deadline, not a SIGALRM in the web worker) and gets ``time_budget``;
- the request stops at ``verify_request_seconds``, below the worker timeout:
  files not reached get ``time_budget`` too;
- each process has an address-space cap (``RLIMIT_AS``), and is replaced
  after ``verify_files_per_process`` files or when it dies;
- at most ``verify_slots`` requests verify at once across all web workers
  (a lock file per slot); the next request is told to come back (503).
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from multiprocessing.connection import Connection
from threading import Lock
from typing import Any

from verifier.policy import Limits, cut_off, verify
from verifier.report import Report

from ..settings import Settings

#: Seconds a process may overrun its own budget (it stops itself first) before it is killed.
GRACE = 2.0


class Busy(Exception):
    """Every verification slot is taken: the caller answers 503 with ``Retry-After``."""


@contextmanager
def slot(settings: Settings) -> Iterator[None]:
    """Hold one of the instance's verification slots for a request, or raise ``Busy``.

    The slots are lock files in the instance: a lock held by a worker that
    dies is released by the kernel, so no slot is ever lost.
    """
    folder = settings.instance / "verify-slots"
    folder.mkdir(mode=0o700, exist_ok=True)
    for number in range(max(1, settings.verify_slots)):
        descriptor = os.open(folder / f"{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)
        return
    raise Busy


@dataclass(frozen=True)
class Job:
    data: bytes
    filename: str
    now: datetime
    limits: Limits


def _serve(connection: Connection, settings: Settings) -> None:
    """A verification process: trust and the register once, then one file per message."""
    import resource  # optional: only in the verification process

    from verifier import speedups  # optional: only in the verification process
    from verifier.cli import quiet_library_logs  # optional: only in the verification process

    from .source import instance_context  # optional: only in the verification process

    cap = settings.verify_memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    speedups.enable(settings.speedups)
    quiet_library_logs()
    trust, status = instance_context(settings, timeout=settings.database_timeout or None)
    while True:
        try:
            job: Job = connection.recv()
        except EOFError:
            return
        try:
            report = verify(
                job.data, trust, status, now=job.now, limits=job.limits, filename=job.filename
            )
        except MemoryError:
            report = cut_off(job.filename)
        connection.send(report)


class Worker:
    """One verification process and the pipe to it."""

    def __init__(self, settings: Settings) -> None:
        context = multiprocessing.get_context("forkserver")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, settings), name="accredit-verify", daemon=True
        )
        self.process.start()
        child.close()
        self.files = 0

    def verify(self, job: Job, deadline: float) -> Report | None:
        """The report, or None if the process overran ``deadline`` or died (then it is gone)."""
        self.files += 1
        try:
            self.connection.send(job)
            if self.connection.poll(max(0.0, deadline - time.monotonic())):
                found: Report = self.connection.recv()
                return found
        except (EOFError, OSError):
            pass
        self.stop()
        return None

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.connection.close()


class Pool:
    """The web worker's verification processes (made on first use, replaced as needed)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.idle: list[Worker] = []
        #: A forked web worker must not use its parent's processes.
        self.pid = os.getpid()
        #: The web worker's threads (gunicorn ``threads``) share ``idle``.
        self.lock = Lock()

    def _take(self) -> Worker:
        while True:
            with self.lock:
                worker = self.idle.pop() if self.idle else None
            if worker is None:
                return Worker(self.settings)
            if worker.alive and worker.files < self.settings.verify_files_per_process:
                return worker
            worker.stop()

    def _give_back(self, worker: Worker) -> None:
        with self.lock:
            self.idle.append(worker)

    def verify_all(
        self, files: Sequence[tuple[str, bytes]], now: datetime, limits: Limits
    ) -> list[Report]:
        """Every file's report, in order, within the request's budget."""
        settings = self.settings
        ends = time.monotonic() + settings.verify_request_seconds
        reports: list[Report] = []
        worker: Worker | None = None
        for name, data in files:
            left = ends - time.monotonic()
            if left <= 0.5:
                reports.append(cut_off(name))
                continue
            seconds = min(float(settings.verify_file_seconds), left)
            job = Job(data, name, now, replace(limits, seconds=seconds))
            worker = worker or self._take()
            report = worker.verify(job, time.monotonic() + seconds + GRACE)
            if report is None:
                worker = None
                report = cut_off(name)
            reports.append(report)
        if worker is not None:
            self._give_back(worker)
        return reports

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for worker in idle:
            worker.stop()


#: Two threads' first uploads must not each make a pool (the loser's processes would linger).
_MAKING = Lock()


def pool_for(extensions: dict[str, Any], settings: Settings) -> Pool:
    """The app's pool (one per web worker process), made on first use."""
    with _MAKING:
        found = extensions.get("accredit.verify_pool")
        if not isinstance(found, Pool) or found.pid != os.getpid():
            found = extensions["accredit.verify_pool"] = Pool(settings)
        return found
