"""The wheel works on its own: built from the checkout, installed far from it, it serves.

The wheel is built from a copy of the checkout's files (so that no stale
``build/`` folder can add to it), installed with its dependencies into a new
virtual environment in a temporary folder, and run from there: ``accredit
init --demo 5 --issue 1``, then ``accredit run``, then the home page and a
certificate's page over HTTP. Nothing may be read from the checkout.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def checkout_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).exists()]


def copy_checkout(target: Path) -> None:
    for name in checkout_files():
        source, copy = ROOT / name, target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            copy.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, copy)


def run(*args: str | Path, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
        return response.status, response.read().decode()


def test_a_wheel_installed_outside_the_checkout_serves_the_register(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCREDIT_", "PYTHON"))}
    source = tmp_path / "source"
    copy_checkout(source)
    assert (source / "registry" / "templates").is_symlink()
    pip = [sys.executable, "-m", "pip"]
    dist = tmp_path / "dist"
    run(*pip, "wheel", "--quiet", "--no-deps", "-w", dist, source, cwd=tmp_path, env=env)
    [wheel] = dist.glob("accredit-*.whl")
    shutil.rmtree(source)  # nothing of the checkout's is left to fall back on

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path, env=env)
    run(venv / "bin" / "pip", "install", "--quiet", wheel, cwd=tmp_path, env=env)
    where = run(
        venv / "bin" / "python",
        "-c",
        "import registry, pathlib; print(pathlib.Path(registry.__file__).resolve())",
        cwd=tmp_path,
        env=env,
    )
    assert where.startswith(str(venv.resolve())), where
    assert str(ROOT) not in where

    instance = tmp_path / "instance"
    port = free_port()
    env.update(
        {
            "ACCREDIT_INSTANCE": str(instance),
            "ACCREDIT_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    accredit = venv / "bin" / "accredit"
    made = run(accredit, "init", "--demo", "5", "--issue", "1", cwd=tmp_path, env=env)
    assert "demo certificates: 1 issued" in made, made
    with sqlite3.connect(instance / "accredit.sqlite3") as db:
        (number,) = db.execute("SELECT number FROM certificate").fetchone()

    server = subprocess.Popen(
        [str(accredit), "run", "--port", str(port), "--workers", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError as exc:
                if time.monotonic() > deadline or server.poll() is not None:
                    output = server.stderr.read().decode() if server.stderr else ""
                    raise AssertionError(f"accredit run did not start: {output}") from exc
                time.sleep(0.2)
        status, home = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200 and "Thai Industrial Standards Institute" in home
        status, page = fetch(f"http://127.0.0.1:{port}/c/{number}")
        assert status == 200 and number in page and "Genuine certificate" in page
        status, css = fetch(f"http://127.0.0.1:{port}/static/accredit.css")
        assert status == 200 and css
        status, thai = fetch(f"http://127.0.0.1:{port}/c/{number}?lang=th")
        assert status == 200 and "ใบรับรองของจริง" in thai, "the compiled Thai catalogue ships"
    finally:
        server.terminate()
        server.wait(timeout=20)
