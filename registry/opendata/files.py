"""The exports as files: one per register version and format, built once, from one snapshot.

Streaming an export straight from the database meant that a database failing
halfway (or a decision committed halfway) gave a client a short or mixed file
that looked complete. Here a file is written in full before anyone is sent a
byte of it, so it can be served with its length and a strong ETag:

- one read transaction (``Database.snapshot``) holds the version and every
  row, so the file is exactly the register at that version;
- it is written to a temporary name in the same folder and renamed into
  place, so no reader ever opens half a file;
- an exclusive file lock per format makes concurrent requests (threads and
  worker processes alike) wait for one build instead of each running it;
- a new version's file replaces the older ones (pruned after the rename; a
  reader still sending an old one keeps its open file);
- a request waits for a build at most ``BUILD_WAIT`` seconds (a large register
  takes minutes, and gunicorn kills a worker silent for 30 s). The build goes
  on in a thread of the worker; meanwhile the previous version's file is
  served, marked as such (``ExportFile.stale_for``), or, with none, the answer
  is a 503 that says to come back shortly.

The files live in ``<instance>/exports`` (0700, files 0600, like the rest of
the instance) and are not part of a backup: they are rebuilt on demand.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from .. import version
from ..db import Database
from ..settings import Settings
from .exports import csv_lines, json_parts

FOLDER = "exports"
FORMATS = ("csv", "json")
#: Characters of the SHA-256 kept in the file name and the ETag.
DIGEST = 32
#: Seconds a request waits for a build before the previous file (or a 503) answers.
BUILD_WAIT = 10.0


class ExportPending(Exception):
    """No export file exists yet and one is being built: ask again in a little while."""


@dataclass(frozen=True)
class ExportFile:
    """One built export: where it is and what identifies its bytes."""

    path: Path
    fmt: str
    #: The register version it holds (``Version.tag``: number and Bangkok day).
    tag: str
    #: The start of the file's SHA-256, hex.
    digest: str
    #: Set when this is an older version's file, served while the register's
    #: version (this tag) is being built.
    stale_for: str | None = None

    @property
    def etag(self) -> str:
        """A strong validator: the same value only ever names the same bytes."""
        return f"{self.tag}.{self.digest}"

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def day(self) -> str:
        """The Bangkok day of its version (``YYYY-MM-DD``), for the download's name."""
        return self.tag.split("-", 1)[1]


@dataclass(frozen=True)
class Publication:
    """What the JSON export says about itself besides the register."""

    publisher: dict[str, str]
    licence: dict[str, str]
    #: The public URL, prefixing the certificate links.
    base: str

    @classmethod
    def of(cls, settings: Settings) -> Publication:
        """The instance's own: its agency, its data licence, its public URL."""
        return cls(
            publisher={
                "name_en": settings.agency_name_en,
                "name_th": settings.agency_name_th,
                "short": settings.agency_short,
            },
            licence={"name": settings.data_licence, "url": settings.data_licence_url},
            base=settings.public_url.rstrip("/"),
        )


def folder_of(instance: Path) -> Path:
    """The exports folder, made owner-only (0700) if it is not yet."""
    folder = instance / FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        os.chmod(folder, 0o700)
    return folder


#: A folder of its own for each database bound to one connection (tests): what such a
#: database sees is rolled back afterwards, so a version number comes back with other rows.
_bound: weakref.WeakKeyDictionary[Database, str] = weakref.WeakKeyDictionary()


def _folder_for(database: Database, instance: Path) -> Path:
    folder = folder_of(instance)
    if database.connection is None:
        return folder
    token = _bound.setdefault(database, secrets.token_hex(8))
    bound = folder / f"bound-{token}"
    bound.mkdir(mode=0o700, exist_ok=True)
    return bound


def _name(tag: str, digest: str, fmt: str) -> str:
    return f"registry-{tag}.{digest}.{fmt}"


def find(folder: Path, tag: str, fmt: str) -> ExportFile | None:
    """The built file of version ``tag``, if there is one."""
    for path in folder.glob(f"registry-{tag}.*.{fmt}"):
        digest = path.name[len(f"registry-{tag}.") : -len(f".{fmt}")]
        if len(digest) == DIGEST:
            return ExportFile(path, fmt, tag, digest)
    return None


@contextmanager
def _locked(folder: Path, fmt: str) -> Iterator[None]:
    """Hold the format's build lock: one builder at a time, across threads and processes.

    ``flock`` locks belong to an open file description, so two threads that
    each open the lock file exclude each other as two processes do.
    """
    descriptor = os.open(folder / f".{fmt}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def ensure(
    database: Database,
    instance: Path,
    fmt: str,
    now: datetime,
    publication: Publication,
    wait: float | None = BUILD_WAIT,
) -> ExportFile:
    """The export of the register's current version, building it if no one has yet.

    ``wait=None`` builds in the caller's thread however long it takes (the
    command line, and databases bound to a test's connection, which another
    thread must not use). Otherwise the build runs in this process's builder
    thread; past ``wait`` seconds the previous version's file is returned
    with ``stale_for`` set, or ``ExportPending`` is raised when there is none.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    folder = _folder_for(database, instance)
    tag = version.peek(database, now).tag
    found = find(folder, tag, fmt)
    if found is not None:
        return found

    def locked_build() -> ExportFile:
        with _locked(folder, fmt):
            found = find(folder, tag, fmt)  # built by the request we waited for
            if found is not None:
                return found
            built = build(database, folder, fmt, now, publication)
            prune(folder, fmt, keep=built.path)
            return built

    if wait is None or database.connection is not None:
        return locked_build()
    future = _submit((str(folder), fmt, tag), locked_build)
    try:
        return future.result(timeout=wait)
    except FutureTimeout:
        previous = latest(folder, fmt)
        if previous is None:
            raise ExportPending(f"the {fmt} export of version {tag} is being built") from None
        return replace(previous, stale_for=tag)


def latest(folder: Path, fmt: str) -> ExportFile | None:
    """The newest built file of ``fmt``, whatever its version."""
    newest: ExportFile | None = None
    newest_time = -1.0
    for path in folder.glob(f"registry-*.{fmt}"):
        tag, _, digest = path.name[len("registry-") : -len(f".{fmt}")].rpartition(".")
        try:
            when = path.stat().st_mtime
        except FileNotFoundError:  # pruned meanwhile
            continue
        if len(digest) == DIGEST and when > newest_time:
            newest, newest_time = ExportFile(path, fmt, tag, digest), when
    return newest


#: This process's builds in progress, by folder, format and version: one each.
_builds: dict[tuple[str, str, str], Future[ExportFile]] = {}
_builds_lock = threading.Lock()
#: Made on first use in each process (never inherited across gunicorn's fork).
_executor: tuple[int, ThreadPoolExecutor] | None = None


def _submit(key: tuple[str, str, str], work: Callable[[], ExportFile]) -> Future[ExportFile]:
    """The build of ``key``, started now unless this process is already running it."""
    global _executor
    with _builds_lock:
        if _executor is None or _executor[0] != os.getpid():
            _executor = (os.getpid(), ThreadPoolExecutor(2, thread_name_prefix="export-build"))
            _builds.clear()
        future = _builds.get(key)
        if future is None:
            future = _executor[1].submit(work)
            _builds[key] = future
            future.add_done_callback(lambda done: _forget(key, done))
        return future


def _forget(key: tuple[str, str, str], done: Future[ExportFile]) -> None:
    with _builds_lock:
        if _builds.get(key) is done:
            del _builds[key]


def build(
    database: Database, folder: Path, fmt: str, now: datetime, publication: Publication
) -> ExportFile:
    """Write the export of one snapshot to a temporary file, then rename it into place.

    The version is read inside the snapshot, so the file is named for what it
    holds even when a change committed after the caller peeked.
    """
    with database.snapshot() as session:
        tag = version.current(session, now).tag
        found = find(folder, tag, fmt)
        if found is not None:
            return found
        if fmt == "csv":
            parts = csv_lines(session, now, publication.base)
        else:
            parts = json_parts(
                session, now, publication.publisher, publication.licence, publication.base
            )
        # mkstemp makes the file 0600.
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".build-{fmt}-")
        try:
            digest = hashlib.sha256()
            with os.fdopen(descriptor, "wb") as out:
                for part in parts:
                    data = part.encode("utf-8")
                    digest.update(data)
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            final = folder / _name(tag, digest.hexdigest()[:DIGEST], fmt)
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    _sync_folder(folder)
    return ExportFile(final, fmt, tag, final.name.rsplit(".", 2)[-2])


def prune(folder: Path, fmt: str, keep: Path) -> list[Path]:
    """Remove older versions' files of ``fmt``, and builds a crash left behind.

    Called under the format's lock, so no ``.build-`` file of it is in progress.
    A reader still sending a removed file keeps reading it: POSIX keeps an
    unlinked file until its last descriptor closes.
    """
    removed = []
    for path in [*folder.glob(f"registry-*.{fmt}"), *folder.glob(f".build-{fmt}-*")]:
        if path != keep:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _sync_folder(folder: Path) -> None:
    """Make the rename durable: a crash after it must not bring back the old name."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
