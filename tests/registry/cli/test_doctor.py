"""Production refuses to serve an instance that is not ready; ``accredit doctor`` says why."""

from __future__ import annotations

import subprocess
import sys

import pytest

from keys import pki as pki_module
from registry import settings as settings_module
from registry.readiness import production_findings

SECRET = "0" * 64
PASSPHRASE = {"ACCREDIT_KEY_PASSPHRASE": "correct horse battery"}
READY = {
    **PASSPHRASE,
    "ACCREDIT_SECRET_KEY": SECRET,
    "ACCREDIT_PUBLIC_URL": "https://register.example.go.th",
}
ALL_CODES = {"unencrypted_keys", "root_key_online", "secret_key_missing", "public_url_not_https"}


def no_traceback(result) -> None:
    assert "Traceback" not in result.stderr + result.stdout


def test_doctor_lists_every_finding_with_its_fix(accredit):
    assert accredit("init").returncode == 0
    result = accredit("doctor")
    assert result.returncode == 1
    no_traceback(result)
    for code in ALL_CODES:
        assert f"[{code}]" in result.stdout
    assert result.stdout.count("  fix: ") == len(ALL_CODES)
    assert "4 finding(s)" in result.stdout


def test_doctor_is_content_once_everything_is_fixed(accredit, tmp_path):
    assert accredit("init", env=PASSPHRASE).returncode == 0
    (tmp_path / "instance" / "pki" / "root.key").unlink()
    result = accredit("doctor", env=READY)
    assert result.returncode == 0, result.stdout
    assert "ready for production: no findings" in result.stdout


def ready_settings(tmp_path, encrypted: bool = True) -> settings_module.Settings:
    """An instance that meets every rule, with its PKI made (and its root key moved away)."""
    made = settings_module.from_environ(
        {},
        {
            "INSTANCE": str(tmp_path / "instance"),
            "SECRET_KEY": SECRET,
            "PUBLIC_URL": READY["ACCREDIT_PUBLIC_URL"],
            "KEY_PASSPHRASE": PASSPHRASE["ACCREDIT_KEY_PASSPHRASE"] if encrypted else None,
        },
    )
    pki_module.create(made.pki_folder, made.pki, made.key_passphrase)
    (made.pki_folder / "root.key").unlink()
    return made


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"secret_key_value": None}, "secret_key_missing"),
        ({"public_url": "http://register.example.go.th"}, "public_url_not_https"),
    ],
)
def test_each_setting_finding_on_its_own(tmp_path, changes, code):
    ready = ready_settings(tmp_path)
    assert production_findings(ready) == []
    assert [f.code for f in production_findings(ready.with_changes(**changes))] == [code]


def test_unencrypted_keys_and_an_online_root_key_on_their_own(tmp_path):
    plain = ready_settings(tmp_path / "plain", encrypted=False)
    assert [f.code for f in production_findings(plain)] == ["unencrypted_keys"]
    ready = ready_settings(tmp_path / "ready")
    marker = "PRIVATE" + " KEY"  # spelled apart: this file holds no key material
    (ready.pki_folder / "root.key").write_text(f"-----BEGIN ENCRYPTED {marker}-----\n")
    assert [f.code for f in production_findings(ready)] == ["root_key_online"]


def test_production_refuses_to_run_an_instance_that_is_not_ready(accredit):
    assert accredit("init").returncode == 0
    env = {"ACCREDIT_ENV": "production", "ACCREDIT_SECRET_KEY": SECRET}
    result = accredit("run", "--port", "5999", env=env)
    assert result.returncode == 2
    no_traceback(result)
    assert "not ready to serve" in result.stderr
    assert "unencrypted" in result.stderr and "https" in result.stderr
    assert "root CA's private key" in result.stderr
    assert "serving on" not in result.stdout


def test_the_wsgi_entry_point_refuses_too(accredit, tmp_path):
    assert accredit("init", env=PASSPHRASE).returncode == 0
    env = {
        "PATH": "/usr/bin:/bin",
        "ACCREDIT_INSTANCE": str(tmp_path / "instance"),
        "ACCREDIT_ENV": "production",
        **READY,
    }
    result = subprocess.run(
        [sys.executable, "-c", "from registry.app import serve; serve()"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    no_traceback(result)
    assert "root_key" not in result.stderr  # people read problems, not codes
    assert "root CA's private key is in the instance" in result.stderr
    (tmp_path / "instance" / "pki" / "root.key").unlink()
    ready = subprocess.run(
        [sys.executable, "-c", "from registry.app import serve; print(serve().name)"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert ready.returncode == 0, ready.stderr
    assert ready.stdout.strip() == "registry.app"
