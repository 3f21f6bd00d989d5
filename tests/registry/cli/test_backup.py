"""``accredit backup`` and ``restore``: a restored instance verifies its log and its certificates.

Each backend: a demo register with an issued certificate is backed up, then
restored into a fresh instance (and, for PostgreSQL, a fresh database); there
``accredit log verify`` holds and the original PDF verifies as valid. Refusals:
a non-empty target without ``--force``, a missing or inconsistent manifest.
"""

from __future__ import annotations

import json
import shutil
import stat

import pytest

from registry.web import current

from ...documents import demo_instance, issue_certificates


@pytest.fixture(params=["sqlite", "postgresql"])
def original(request, tmp_path, make_database_url):
    """An instance with one issued certificate: its environment and the PDF."""
    folder = tmp_path / "original"
    env = {"ACCREDIT_INSTANCE": str(folder)}
    if request.param == "postgresql":
        # A password (trust auth ignores it) takes the passfile path of the PostgreSQL tools.
        url = make_database_url("postgresql")
        env["ACCREDIT_DATABASE_URL"] = url.replace("postgres@", "postgres:not%3Aneeded@")
    app = demo_instance(folder, 8, **{k.removeprefix("ACCREDIT_"): v for k, v in env.items()})
    (issued,) = issue_certificates(app, 1)
    current.database(app).engine.dispose()
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(issued.pdf)
    target = {"ACCREDIT_INSTANCE": str(tmp_path / "restored")}
    if request.param == "postgresql":
        target["ACCREDIT_DATABASE_URL"] = make_database_url("postgresql")
    return env, target, pdf, issued.certificate.number


def test_a_restored_instance_verifies_its_log_and_certificates(accredit, original, tmp_path):
    env, target, pdf, number = original
    folder = tmp_path / "backup"
    made = accredit("backup", str(folder), env=env)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "pki/root.crt" in manifest["files"] and manifest["database"]["revision"]
    assert not list(tmp_path.glob(".backup.partial-*"))  # renamed into place

    restored = accredit("restore", str(folder), env=target)
    assert restored.returncode == 0, restored.stderr
    log = accredit("log", "verify", env=target)
    assert log.returncode == 0 and "the log holds" in log.stdout, log.stdout + log.stderr
    verified = accredit("verify", str(pdf), env=target)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip() == f"{pdf}: VALID {number}"

    again = accredit("restore", str(folder), env=target)
    assert again.returncode == 1 and "--force" in again.stderr
    assert "Traceback" not in again.stderr
    forced = accredit("restore", "--force", str(folder), env=target)
    assert forced.returncode == 0, forced.stderr
    assert accredit("verify", str(pdf), env=target).returncode == 0
    assert accredit("backup", str(folder), env=env).returncode == 1  # never over a backup


def test_an_inconsistent_or_unlisted_backup_is_refused(accredit, original, tmp_path):
    env, target, _, _ = original
    folder = tmp_path / "backup"
    assert accredit("backup", str(folder), env=env).returncode == 0

    changed = tmp_path / "changed"
    shutil.copytree(folder, changed)
    (changed / "pki" / "root.crt").write_bytes(b"not the agency's root")
    refused = accredit("restore", str(changed), env=target)
    assert refused.returncode == 1 and "changed since the backup: pki/root.crt" in refused.stderr

    extra = tmp_path / "extra"
    shutil.copytree(folder, extra)
    (extra / "pki" / "planted.key").write_bytes(b"x")
    refused = accredit("restore", str(extra), env=target)
    assert refused.returncode == 1 and "not in the manifest: pki/planted.key" in refused.stderr

    bare = tmp_path / "bare"
    shutil.copytree(folder, bare)
    (bare / "manifest.json").unlink()
    refused = accredit("restore", str(bare), env=target)
    assert refused.returncode == 1 and "no manifest.json" in refused.stderr

    garbled = tmp_path / "garbled"
    shutil.copytree(folder, garbled)
    (garbled / "manifest.json").write_text("{not json")
    refused = accredit("restore", str(garbled), env=target)
    assert refused.returncode == 1 and "not an accredit backup manifest" in refused.stderr
    assert "Traceback" not in refused.stderr

    newer = tmp_path / "newer"
    shutil.copytree(folder, newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["database"]["revision"] = "f00dfeedbeef"
    (newer / "manifest.json").write_text(json.dumps(manifest))
    refused = accredit("restore", str(newer), env=target)
    assert refused.returncode == 1 and "does not know" in refused.stderr
    assert not (tmp_path / "restored").exists()  # nothing was touched


def test_no_backup_of_an_instance_without_a_database(accredit, tmp_path):
    result = accredit("backup", str(tmp_path / "backup"))
    assert result.returncode == 1 and "run `accredit init` first" in result.stderr
    assert not (tmp_path / "instance").exists() and not (tmp_path / "backup").exists()
