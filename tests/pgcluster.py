"""Private PostgreSQL clusters in a temporary folder: a primary, and a streaming replica of it.

The machine's own PostgreSQL (127.0.0.1:5432) is shared with others: it must
never be stopped, frozen (SIGSTOP) or reconfigured by a test, and its
``pg_hba.conf`` has no ``replication`` entry, so ``pg_basebackup`` cannot copy
it without editing a system file. So the tests that need a replica, or a
server to freeze, make their own primary here with the machine's PostgreSQL 15
binaries (``initdb``, whose ``pg_hba.conf`` trusts replication from
loopback), copy it with ``pg_basebackup -R`` into a hot standby on another
loopback port, and stop both at the end, always.

PostgreSQL refuses to run as root: as root, every command runs as the
``postgres`` user (``runuser``), in a folder that user owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
#: Settings for a throwaway cluster: fast (no fsync), small, loopback only.
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c shared_buffers=32MB -c max_connections=60 "
    "-c wal_level=replica -c max_wal_senders=4 -c hot_standby=on "
    "-c wal_receiver_status_interval=1 -c hot_standby_feedback=on"
)


class ClusterUnavailable(Exception):
    """A private cluster could not be made here (no binaries, no ``postgres`` user...)."""


def unavailable(reason: str) -> None:
    """Fail under CI (the machine is meant to have PostgreSQL 15), skip loudly elsewhere."""
    message = f"cannot start a private PostgreSQL cluster: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []


def _run(*command: str | Path, timeout: float = 60) -> None:
    done = subprocess.run(
        [*_as_postgres(), *map(str, command)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise ClusterUnavailable(
            f"{Path(str(command[0])).name} failed: {(done.stderr or done.stdout).strip()[-800:]}"
        )


@dataclass
class Cluster:
    """One running PostgreSQL server of our own: its folder, port and postmaster."""

    data: Path
    port: int
    sockets: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        _run(
            BIN / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.data.parent / f"{self.data.name}.log",
            "-o",
            f"-p {self.port} -k {self.sockets} {SERVER_OPTIONS}",
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        self.resume()  # a frozen server cannot stop
        try:
            _run(BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", "20", "stop")
        except (ClusterUnavailable, subprocess.TimeoutExpired):
            pid = self.postmaster()
            if pid:
                os.kill(pid, signal.SIGKILL)

    def postmaster(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends, WAL writer, ...)."""
        root = self.postmaster()
        if root is None:
            return []
        found = [root]
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == root:
                found.append(int(entry.name))
        return found

    def freeze(self) -> None:
        """SIGSTOP the postmaster and all its processes: connected sockets go silent."""
        for pid in self.processes():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                continue

    def execute(self, sql: str, database: str = "postgres") -> list[tuple]:
        with psycopg.connect(self.dsn(database), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []


def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="accredit-pg-"))
    if os.getuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ClusterUnavailable("no 'postgres' user to run the server as") from exc
        os.chown(folder, user.pw_uid, user.pw_gid)
    folder.chmod(0o700)
    return folder


@contextmanager
def private_primary() -> Iterator[Cluster]:
    """A fresh primary on a free loopback port, trusting loopback (replication too)."""
    if not (BIN / "initdb").exists():
        raise ClusterUnavailable(f"no PostgreSQL binaries in {BIN}")
    folder = _folder()
    primary = Cluster(folder / "primary", free_port(), folder)
    try:
        _run(
            BIN / "initdb",
            "-D",
            primary.data,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        )
        primary.start()
        yield primary
    finally:
        primary.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def streaming_replica(primary: Cluster) -> Iterator[Cluster]:
    """A hot standby of ``primary``, made with ``pg_basebackup -R``, streaming from it."""
    replica = Cluster(primary.sockets / "replica", free_port(), primary.sockets)
    _run(
        BIN / "pg_basebackup",
        "-h",
        "127.0.0.1",
        "-p",
        str(primary.port),
        "-U",
        "postgres",
        "-D",
        replica.data,
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
        "--no-sync",
    )
    try:
        replica.start()
        deadline = time.monotonic() + 20
        while replica.execute("SELECT pg_is_in_recovery()")[0][0] is not True:
            if time.monotonic() > deadline:
                raise ClusterUnavailable("the copy did not start as a standby")
            time.sleep(0.1)
        yield replica
    finally:
        replica.stop()


@contextmanager
def primary_and_replica() -> Iterator[tuple[Cluster, Cluster]]:
    with ExitStack() as stack:
        primary = stack.enter_context(private_primary())
        replica = stack.enter_context(streaming_replica(primary))
        yield primary, replica


def caught_up(primary: Cluster, replica: Cluster, timeout: float = 20) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    target = primary.execute("SELECT pg_current_wal_lsn()")[0][0]
    deadline = time.monotonic() + timeout
    while True:
        behind = replica.execute(
            f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn()) > 0"
        )[0][0]
        if not behind:
            return
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.05)
