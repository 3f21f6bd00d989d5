"""``accredit staff``: the bootstrap; and in production, no other command writes or signs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PASSWORD = "correct horse battery staple"


def run(tmp_path: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    environ["ACCREDIT_INSTANCE"] = str(tmp_path / "instance")
    environ.update(env or {})
    return subprocess.run(
        [str(Path(sys.executable).parent / "accredit"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
    )


def test_staff_add_list_disable(tmp_path):
    assert run(tmp_path, "init").returncode == 0
    added = run(
        tmp_path,
        "staff",
        "add",
        "Registrar@Agency.test",
        "--name",
        "Rita Registrar",
        "--role",
        "registrar",
        "--role",
        "auditor",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert "otpauth://totp/TISI:registrar%40agency.test?" in added.stdout
    assert PASSWORD not in added.stdout + added.stderr
    short = run(
        tmp_path,
        "staff",
        "add",
        "x@agency.test",
        "--name",
        "X",
        "--role",
        "officer",
        "--password-stdin",
        stdin="short\n",
    )
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    assert "Traceback" not in short.stderr
    again = run(
        tmp_path,
        "staff",
        "add",
        "registrar@agency.test",
        "--name",
        "R",
        "--role",
        "officer",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert again.returncode == 1 and "already an account" in again.stderr
    listed = run(tmp_path, "staff", "list").stdout
    assert "registrar@agency.test\tactive\tauditor,registrar\tRita Registrar" in listed
    assert run(tmp_path, "staff", "disable", "registrar@agency.test").returncode == 0
    assert "registrar@agency.test\tdisabled" in run(tmp_path, "staff", "list").stdout
    missing = run(tmp_path, "staff", "disable", "nobody@agency.test")
    assert missing.returncode == 1 and "no account for nobody@agency.test" in missing.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("init", "--demo", "5"),
        ("issue", "Testing-0002"),
        ("documents", "refresh-lta"),
    ],
)
def test_in_production_no_command_writes_register_facts_or_signs(tmp_path, args):
    assert run(tmp_path, "init").returncode == 0
    production = {"ACCREDIT_ENV": "production", "ACCREDIT_SECRET_KEY": "s" * 64}
    refused = run(tmp_path, *args, env=production)
    assert refused.returncode == 1, refused.stdout
    assert "refused in production" in refused.stderr and "back office" in refused.stderr
    bootstrap = run(
        tmp_path,
        "staff",
        "add",
        "first@agency.test",
        "--name",
        "First",
        "--role",
        "registrar",
        "--password-stdin",
        stdin=PASSWORD + "\n",
        env=production,
    )
    assert bootstrap.returncode == 0, bootstrap.stderr
