"""What the browser tests share: page sizes, a free port, new pages and screenshots."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artefacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_page(browser: Browser, viewport: dict, locale: str = "en-US") -> Page:
    context = browser.new_context(viewport=viewport, locale=locale)
    return context.new_page()


def shoot(page: Page, name: str) -> None:
    """A full-page PNG under ``artefacts/screenshots/``, for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@contextmanager
def served(folder: Path, port: int, settings: dict[str, str], workers: int = 2) -> Iterator[str]:
    """``accredit run`` on ``folder`` at 127.0.0.1:``port``, with these ``ACCREDIT_*`` settings.

    Yields the base URL once the port answers; the server is stopped on exit.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    env |= {"ACCREDIT_INSTANCE": str(folder), **settings}
    script = Path(sys.executable).parent / "accredit"
    process = subprocess.Popen(
        [str(script), "run", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90  # a loaded 2-CPU machine starts gunicorn slowly
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "no server"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(15)
