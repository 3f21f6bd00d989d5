"""``accredit backup`` and ``restore``: the database, the agency PKI and the instance's secrets.

A backup is a folder: the database (SQLite copied with the online backup API,
so it is consistent while the server writes; PostgreSQL as a ``pg_dump``
custom-format archive), the instance's ``pki/`` folder and its ``secret_key``,
and ``manifest.json`` with the SHA-256 of every file. It holds private keys,
so every file is 0600 and every folder 0700, and it is written under a
temporary name and renamed into place: a folder with the final name is always
complete. A restore checks the manifest before it touches anything, and
refuses a non-empty target unless forced.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from keys.pki import FILE_MODE, FOLDER_MODE, private_folder

from . import db
from .settings import SECRET_KEY_FILE, Settings

MANIFEST = "manifest.json"
FORMAT = "accredit-backup/1"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
#: What of the instance folder is kept besides the database.
INSTANCE_PARTS = ("pki", SECRET_KEY_FILE)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what would work."""


class ToolMissing(BackupError):
    """``pg_dump`` or ``pg_restore`` is not installed (a problem of the machine, not the data)."""


@dataclass(frozen=True)
class Summary:
    folder: Path
    database: str
    files: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _private_file(path: Path) -> None:
    """An empty file made 0600 from the start, for a tool (sqlite3, pg_dump) to write into."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE))


def _copy_tree(source: Path, target: Path) -> None:
    """Copy files and folders, owner-only modes, following no links out of ``source``."""
    if source.is_file():
        _private_file(target)
        shutil.copyfile(source, target)
        os.chmod(target, FILE_MODE)
        return
    private_folder(target)
    for child in sorted(source.iterdir()):
        if child.is_symlink():
            continue
        _copy_tree(child, target / child.name)


def _listed(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): _sha256(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


@contextmanager
def _libpq(url: URL) -> Iterator[str]:
    """A libpq address for the PostgreSQL tools; a password goes in a passfile (0600).

    Never on the command line, where every user of the machine can read it in ``ps``.
    """
    # (``URL.set`` ignores None, so it could not drop the password.)
    plain = url._replace(drivername="postgresql", password=None)
    if not url.password:
        yield plain.render_as_string(hide_password=False)
        return
    escaped = str(url.password).replace("\\", "\\\\").replace(":", "\\:")
    with tempfile.TemporaryDirectory(prefix="accredit-pg-") as folder:
        passfile = Path(folder) / "pgpass"
        _private_file(passfile)
        passfile.write_text(f"*:*:*:*:{escaped}\n")
        yield plain.update_query_dict({"passfile": str(passfile)}).render_as_string(
            hide_password=False
        )


def _run(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        raise ToolMissing(f"{tool} is not installed (Debian: postgresql-client)")
    done = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no message"]
        raise BackupError(f"{tool} failed: {lines[0]}")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while another process writes."""
    _private_file(target)
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        # One self-contained file: a WAL-mode copy would grow -wal and -shm files
        # beside it when read, even read-only (the app turns WAL on again).
        dst.execute("PRAGMA journal_mode=DELETE")
    os.chmod(target, FILE_MODE)


def backup(settings: Settings, folder: Path) -> Summary:
    """Write a complete backup of the instance into ``folder`` (which must not exist yet)."""
    folder = folder.resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} already exists and is not empty; name a new folder")
    if folder == settings.instance or settings.instance in folder.parents:
        raise BackupError("the backup folder must be outside the instance folder")
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not _sqlite_path(url).is_file():
        # Connecting would create an empty database inside the instance it copies.
        raise BackupError(f"there is no database at {url.database}; run `accredit init` first")
    engine = db.make_engine(settings.database_url)
    try:
        db.check_connection(engine)
        revision = db.current_revision(engine)
    finally:
        engine.dispose()
    if revision is None:
        raise BackupError("the database has no schema yet; run `accredit init` first")
    private_folder(folder.parent)
    partial = folder.with_name(f".{folder.name}.partial-{secrets.token_hex(4)}")
    private_folder(partial)
    try:
        if url.get_backend_name() == "sqlite":
            kind, name = "sqlite", SQLITE_FILE
            _sqlite_copy(_sqlite_path(url), partial / name)
        elif url.get_backend_name() == "postgresql":
            kind, name = "postgresql", PG_FILE
            _private_file(partial / name)
            with _libpq(url) as address:
                _run(
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--file",
                    str(partial / name),
                    "--dbname",
                    address,
                )
            os.chmod(partial / name, FILE_MODE)
        else:
            raise BackupError(f"cannot back up a {url.get_backend_name()} database")
        for part in INSTANCE_PARTS:
            if (settings.instance / part).exists():
                _copy_tree(settings.instance / part, partial / part)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": {"kind": kind, "file": name, "revision": revision},
            "files": _listed(partial),
        }
        manifest_path = partial / MANIFEST
        _private_file(manifest_path)
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if folder.exists():
            folder.rmdir()  # empty, checked above: the rename takes its place
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Summary(folder, kind, len(manifest["files"]))


def read_manifest(folder: Path) -> dict[str, Any]:
    """The backup's manifest, once every file it lists is there with its digest, and no other."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a folder")
    if not path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: it is not a complete accredit backup")
    try:
        manifest = json.loads(path.read_text())
        files, database = manifest["files"], manifest["database"]
        usable = (
            manifest["format"] == FORMAT
            and isinstance(files, dict)
            and database["kind"] in ("sqlite", "postgresql")
            and database["file"] in files
        )
    except (ValueError, KeyError, TypeError):
        usable = False
    if not usable:
        raise BackupError(f"{path} is not an accredit backup manifest ({FORMAT})")
    found = _listed(folder)
    missing = sorted(set(files) - set(found))
    extra = sorted(set(found) - set(files))
    changed = sorted(name for name in set(files) & set(found) if files[name] != found[name])
    for label, names in (
        ("missing", missing),
        ("not in the manifest", extra),
        ("changed since the backup", changed),
    ):
        if names:
            raise BackupError(f"the backup is inconsistent: {label}: {', '.join(names[:5])}")
    return manifest


def restore(settings: Settings, folder: Path, force: bool = False) -> Summary:
    """Put a backup back into the instance (and its database) that ``settings`` name."""
    folder = folder.resolve()
    manifest = read_manifest(folder)
    kind = manifest["database"]["kind"]
    url = make_url(settings.database_url)
    if url.get_backend_name() != kind:
        raise BackupError(
            f"the backup holds a {kind} database, but ACCREDIT_DATABASE_URL is "
            f"{url.get_backend_name()}; restore into a {kind} database"
        )
    engine = db.make_engine(settings.database_url)  # connects only when used
    try:
        known = db.known_revision(engine, str(manifest["database"].get("revision")))
    finally:
        engine.dispose()
    if not known:
        raise BackupError(
            f"the backup's database is at revision {manifest['database'].get('revision')}, "
            "which this version of accredit does not know; restore it with the version "
            "that made it (or a newer one)"
        )
    instance = settings.instance
    if instance.exists() and any(instance.iterdir()) and not force:
        raise BackupError(f"the instance {instance} is not empty; use --force to replace it")
    sqlite_target = _sqlite_path(url) if kind == "sqlite" else None
    if sqlite_target is not None and sqlite_target.exists() and not force:
        raise BackupError(f"there is a database at {sqlite_target}; use --force to replace it")
    if kind == "postgresql":
        engine = db.make_engine(settings.database_url)
        try:
            db.check_connection(engine)
            tables = inspect(engine).get_table_names()
        finally:
            engine.dispose()
        if tables and not force:
            raise BackupError(
                f"the database {url.render_as_string(hide_password=True)} is not empty; "
                "use --force to replace it"
            )
    private_folder(instance.parent)
    partial = instance.with_name(f".{instance.name}.restoring-{secrets.token_hex(4)}")
    private_folder(partial)
    try:
        for part in INSTANCE_PARTS:
            if (folder / part).exists():
                _copy_tree(folder / part, partial / part)
        if sqlite_target is not None:
            inside = instance in sqlite_target.parents
            staged = (
                partial / sqlite_target.relative_to(instance)
                if inside
                else (sqlite_target.with_name(f".{sqlite_target.name}.restoring"))
            )
            private_folder(staged.parent)
            _sqlite_copy(folder / manifest["database"]["file"], staged)
            if not inside:
                for companion in ("-wal", "-shm"):
                    Path(f"{sqlite_target}{companion}").unlink(missing_ok=True)
                staged.replace(sqlite_target)
        else:
            with _libpq(url) as address:
                _run(
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--exit-on-error",
                    "--dbname",
                    address,
                    str(folder / manifest["database"]["file"]),
                )
        if instance.exists():
            aside = instance.with_name(f".{instance.name}.replaced-{secrets.token_hex(4)}")
            instance.rename(aside)
            partial.rename(instance)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            partial.rename(instance)
        os.chmod(instance, FOLDER_MODE)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Summary(instance, kind, len(manifest["files"]))
