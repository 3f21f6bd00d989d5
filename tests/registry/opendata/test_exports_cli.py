"""``accredit exports``: files built ahead of any request, by a real process, on both databases."""

from __future__ import annotations

import stat
from collections.abc import Callable

import pytest

from ...conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, make_database_url: Callable[[str], str]) -> str:
    return make_database_url(request.param)


def test_exports_are_built_once_per_version_by_the_command(accredit, database_url, tmp_path):
    env = {"ACCREDIT_DATABASE_URL": database_url}
    made = accredit("init", "--demo", "8", env=env)
    assert made.returncode == 0, made.stderr
    first = accredit("exports", env=env)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["csv", "json"]
    folder = tmp_path / "instance" / "exports"
    built = sorted(p.name for p in folder.glob("registry-*"))
    assert len(built) == 2
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE((folder / name).stat().st_mode) == 0o600 for name in built)
    again = accredit("exports", env=env)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in folder.glob("registry-*")) == built  # nothing rebuilt
    etags = [line.split("ETag ")[1].split()[0] for line in lines]
    assert [line.split("ETag ")[1].split()[0] for line in again.stdout.splitlines()] == etags
