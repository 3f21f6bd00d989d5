"""The ``accredit`` command, run as a real process, on both databases."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from registry import db

from ...conftest import BACKENDS

ANCHOR = "2026-11-25"
HEAD = db.head_revision(db.make_engine("sqlite://"))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, make_database_url: Callable[[str], str]) -> str:
    return make_database_url(request.param)


def test_init_creates_the_instance_and_is_idempotent(accredit, database_url, tmp_path):
    env = {"ACCREDIT_DATABASE_URL": database_url}
    first = accredit("init", env=env)
    assert first.returncode == 0, first.stderr
    assert f"upgraded from empty to {HEAD}" in first.stdout
    assert (tmp_path / "instance").is_dir()
    again = accredit("init", env=env)
    assert again.returncode == 0, again.stderr
    assert f"up to date (revision {HEAD})" in again.stdout


def test_sqlite_is_the_default_database_inside_the_instance(accredit, tmp_path):
    result = accredit("init")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "instance" / "accredit.sqlite3").is_file()


def test_demo_data_is_realistic_and_has_every_status(accredit, database_url):
    env = {"ACCREDIT_DATABASE_URL": database_url}
    made = accredit("init", "--demo", "300", "--anchor", ANCHOR, env=env)
    assert made.returncode == 0, made.stderr
    assert "300 bodies added" in made.stdout
    listed = accredit("list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {"number", "status", "cab"} <= set(rows[0])
    counts = Counter(r["status"] for r in rows)
    for status in ("valid", "suspended", "partially_suspended", "withdrawn", "expired"):
        assert counts[status] > 0, counts
    assert counts["valid"] > len(rows) / 2
    standards = {r["standard"] for r in rows}
    assert {"ISO/IEC 17025:2017", "ISO 15189:2022"} <= standards
    assert any("Co., Ltd." in r["cab"] for r in rows)
    assert any("บริษัท" in r["cab_th"] for r in rows)

    again = accredit("init", "--demo", "300", "--anchor", ANCHOR, env=env)
    assert "0 bodies added" in again.stdout
    assert json.loads(accredit("list", "--json", env=env).stdout) == rows


def test_demo_data_is_deterministic_for_a_given_n(accredit, make_database_url):
    outputs = []
    for _ in range(2):
        env = {"ACCREDIT_DATABASE_URL": make_database_url("sqlite")}
        assert accredit("init", "--demo", "120", "--anchor", ANCHOR, env=env).returncode == 0
        outputs.append(accredit("list", "--json", env=env).stdout)
    assert outputs[0] == outputs[1]


def test_demo_scope_uses_real_method_references(accredit, database_url):
    env = {"ACCREDIT_DATABASE_URL": database_url}
    assert accredit("init", "--demo", "60", "--anchor", ANCHOR, env=env).returncode == 0
    engine = db.make_engine(database_url)
    with engine.connect() as conn:
        methods = set(conn.scalars(text("SELECT DISTINCT method FROM scope_item")))
        cmc = conn.scalar(text("SELECT count(*) FROM scope_item WHERE cmc_text IS NOT NULL"))
        provinces = set(conn.scalars(text("SELECT DISTINCT province_th FROM site")))
    engine.dispose()
    assert methods & {"AOAC 999.11", "ISO 712:2009", "TIS 369-2557", "ASTM D638"}
    assert cmc > 0
    assert "กรุงเทพมหานคร" in provinces or len(provinces) > 3


def test_list_filters_by_status_one_per_line(accredit, database_url):
    env = {"ACCREDIT_DATABASE_URL": database_url}
    assert accredit("init", "--demo", "200", "--anchor", ANCHOR, env=env).returncode == 0
    result = accredit("list", "--status", "withdrawn", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines
    for line in lines:
        number, status = line.split("\t")
        assert status == "withdrawn"
        assert number.split("-")[0] in {
            "Testing",
            "Calibration",
            "Medical",
            "Inspection",
            "Certification",
        }


def test_list_refuses_an_unknown_status(accredit):
    result = accredit("list", "--status", "fine")
    assert result.returncode == 2
    assert "Invalid value for '--status'" in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:9/nowhere",
        "postgresql://postgres@127.0.0.1:5432/accredit_no_such_database",
        "not a url",
        "oracle://x@y/z",
    ],
)
@pytest.mark.parametrize("command", [["init"], ["list"], ["run"]])
def test_an_unusable_database_gives_one_line_and_exit_2(accredit, url, command):
    result = accredit(*command, env={"ACCREDIT_DATABASE_URL": url})
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("accredit: error:")


def test_list_before_init_says_what_to_do(accredit):
    result = accredit("list")
    assert result.returncode == 2
    assert "run `accredit init` first" in result.stderr


def test_init_on_a_newer_database_stops(accredit, database_url):
    env = {"ACCREDIT_DATABASE_URL": database_url}
    assert accredit("init", env=env).returncode == 0
    engine = db.make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    result = accredit("init", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "revision 0099" in result.stderr
    assert "newer software" in result.stderr


def test_run_prints_the_qr_urls_on_its_own_public_url_every_time(accredit, tmp_path):
    """``make run PORT=...`` sets ACCREDIT_PUBLIC_URL; each run shows QR URLs for it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    public = f"http://127.0.0.1:{port}"
    made = accredit("init", "--demo", "3", "--issue", "1", env={"ACCREDIT_PUBLIC_URL": public})
    assert made.returncode == 0, made.stderr
    script = Path(sys.executable).parent / "accredit"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    environ["ACCREDIT_INSTANCE"] = str(tmp_path / "instance")
    for url in (public, "http://127.0.0.1:5000"):
        environ["ACCREDIT_PUBLIC_URL"] = url
        server = subprocess.Popen(
            [str(script), "run", "--port", str(port), "--workers", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environ,
        )
        try:
            lines = []
            for line in server.stdout:
                lines.append(line)
                if line.startswith("serving on"):
                    break
        finally:
            server.terminate()
            server.wait(timeout=30)
        output = "".join(lines)
        assert f"{url.upper()}/V/" in output, output
        noted = f"but this serves port {port}" in output
        assert noted == (url != public), output
