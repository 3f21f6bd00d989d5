"""What the browser tests share: page sizes, a free port, new pages and screenshots."""

from __future__ import annotations

import socket
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
