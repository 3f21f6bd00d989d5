"""The instance is its owner's alone: folders 0700, files 0600; warnings say what is true."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from keys.revocation import current_crl
from registry import db


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_init_makes_a_private_instance(accredit, tmp_path):
    result = accredit("init")
    assert result.returncode == 0, result.stderr
    instance = tmp_path / "instance"
    assert mode(instance) == 0o700
    assert mode(instance / "accredit.sqlite3") == 0o600
    folders = [instance / "pki", *(p for p in (instance / "pki").rglob("*") if p.is_dir())]
    files = [p for p in instance.rglob("*") if p.is_file()]
    assert any(p.suffix == ".key" for p in files) and any(p.suffix == ".crt" for p in files)
    assert {str(p): mode(p) for p in folders} == {str(p): 0o700 for p in folders}
    assert {str(p): mode(p) for p in files} == {str(p): 0o600 for p in files}


def test_init_tightens_an_instance_made_before_the_rule(accredit, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)
    database = instance / "accredit.sqlite3"
    database.touch()
    os.chmod(database, 0o644)
    result = accredit("init")
    assert result.returncode == 0, result.stderr
    assert (mode(instance), mode(database)) == (0o700, 0o600)


def test_sqlite_and_its_wal_and_shm_are_0600(tmp_path):
    path = tmp_path / "register.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
            assert wal.exists() and shm.exists()
            assert (mode(path), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    finally:
        engine.dispose()


def test_an_older_world_readable_database_is_tightened(tmp_path):
    path = tmp_path / "old.sqlite3"
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        name.touch()
        os.chmod(name, 0o644)
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert mode(path) == 0o600
    finally:
        engine.dispose()


def test_a_crl_written_to_the_pki_folder_is_0600(make_pki):
    pki = make_pki()
    current_crl(pki, "root")
    assert mode(pki.folder / "root.crl") == 0o600
    assert mode(pki.folder) == 0o700


def test_encrypted_keys_without_a_passphrase_are_not_called_unencrypted(accredit):
    made = accredit("init", env={"ACCREDIT_KEY_PASSPHRASE": "correct horse"})
    assert made.returncode == 0, made.stderr
    assert "UNENCRYPTED" not in made.stderr
    again = accredit("init")
    assert "UNENCRYPTED" not in again.stderr
    assert "ACCREDIT_KEY_PASSPHRASE is not set" in again.stderr
    assert "are encrypted" in again.stderr
    assert "Traceback" not in again.stderr


def test_unencrypted_keys_are_called_so(accredit):
    made = accredit("init")
    assert made.returncode == 0, made.stderr
    assert "UNENCRYPTED" in made.stderr
    later = accredit("init", env={"ACCREDIT_KEY_PASSPHRASE": "correct horse"})
    assert "UNENCRYPTED although ACCREDIT_KEY_PASSPHRASE is set" in later.stderr
