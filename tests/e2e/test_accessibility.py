"""WCAG 2.2 AA on every public page: axe-core in Debian's Chromium, 0 violations.

axe-core comes from the npm registry (package.json pins it; ``make setup``
runs ``npm ci``). It runs on each public page at phone (390 px) and desktop
(1280 px) widths, in English and Thai, with the WCAG 2.0, 2.1 and 2.2 A/AA
rules. One browser context, one tab: each page is loaded and checked in turn.
The counts of every run are written to ``artefacts/axe.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from registry.register.status import EventKind

from ..registry import factories
from .harness import DESKTOP, PHONE, ROOT, shoot
from .test_browser import decode_qr, server  # noqa: F401  (the running register)

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
REPORT = ROOT / "artefacts" / "axe.json"


def axe(page: Page) -> list[dict]:
    """The violations axe-core finds on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """(tags) => axe.run(document, {
            runOnly: {type: 'tag', values: tags},
            resultTypes: ['violations'],
        })""",
        TAGS,
    )
    return result["violations"]


def described(violation: dict) -> str:
    targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:4]]
    return (
        f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} nodes): "
        f"{violation['help']} -> {targets}"
    )


def public_pages(server: dict, page: Page, tmp_path: Path) -> dict[str, str]:  # noqa: F811
    """Every public GET page worth checking, by name, as paths on the register."""
    base = server["base"]
    page.goto(f"{base}/a/{server['accreditation']}")
    cab = page.locator("a[href^='/cab/']").first.get_attribute("href")
    qr = decode_qr(server["pdf"], tmp_path)
    return {
        "home": "/",
        "search": "/?q=rice",
        "search-thai": "/?q=" + "ตะกั่ว",
        "search-none": "/?q=zzqqxx",
        "accreditation": f"/a/{server['accreditation']}",
        "cab": cab or "/cab/1",
        "certificate-lookup": "/c",
        "certificate": f"/c/{server['number']}",
        "qr-landing": re.sub(r"^https?://[^/]+", "", qr, flags=re.IGNORECASE),
        "verify": "/verify",
        "about": "/about",
        "trust": "/trust",
        "api-docs": "/api",
        "not-found": "/no-such-page",
        "unknown-accreditation": "/a/Testing-9999",
        "staff-sign-in": "/staff/login",
    }


def with_lang(path: str, lang: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


@pytest.fixture(scope="module")
def axe_page(browser):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make setup` installs axe-core (npm ci)")
    # The register's CSP forbids inline scripts, and axe is injected as one.
    context = browser.new_context(bypass_csp=True, viewport=PHONE)
    page = context.new_page()
    yield page
    context.close()


def test_every_public_page_has_no_wcag_violations(server, axe_page, tmp_path):  # noqa: F811
    page = axe_page
    pages = public_pages(server, page, tmp_path)
    genuine = tmp_path / "certificate.pdf"
    genuine.write_bytes(server["pdf"])
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(server["pdf"] + b"\n% appended\n")
    found: list[str] = []
    counts: dict[str, int] = {}
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        for lang in ("en", "th"):
            for name, path in pages.items():
                page.goto(server["base"] + with_lang(path, lang))
                assert page.locator("html").get_attribute("lang") == lang, (name, lang)
                violations = axe(page)
                if name in ("search-thai", "accreditation") and lang == "th":
                    shoot(page, f"axe-{name}-{size}-th")  # Thai link underlines, to look at
                counts[f"{name} {size} {lang}"] = len(violations)
                found += [f"{name} {size} {lang}: {described(v)}" for v in violations]
            # The verify result, after a POST (the language is the cookie's).
            page.goto(server["base"] + with_lang("/verify", lang))
            page.set_input_files("#file", [str(genuine), str(altered)])
            page.click("form button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("section.card").count() == 2
            violations = axe(page)
            counts[f"verify-result {size} {lang}"] = len(violations)
            found += [f"verify-result {size} {lang}: {described(v)}" for v in violations]
            if size == "phone" and lang == "th":
                shoot(page, "axe-verify-result-phone-th")
    # The warning states have colours of their own: a suspended record, certificate, QR.
    factories.decide(
        server["app"],
        server["accreditation"],
        EventKind.SUSPENDED,
        reason="Failed to maintain its quality system",
        reason_th="ไม่รักษาระบบคุณภาพ",
    )
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        for lang in ("en", "th"):
            for name in ("accreditation", "certificate", "qr-landing", "search"):
                path = pages[name] if name != "search" else f"/?q={server['accreditation']}"
                page.goto(server["base"] + with_lang(path, lang))
                violations = axe(page)
                counts[f"{name}-suspended {size} {lang}"] = len(violations)
                found += [f"{name}-suspended {size} {lang}: {described(v)}" for v in violations]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(counts, indent=1, ensure_ascii=False), encoding="utf-8")
    assert len(counts) == 2 * 2 * (len(pages) + 1 + 4)
    assert not found, f"{len(found)} violations:\n" + "\n".join(found)


def test_the_axe_harness_finds_what_is_wrong(axe_page):
    """The check itself works: a page without a language or alt text fails it."""
    axe_page.set_content("<html><body><img src='x.png'><a href='#'></a></body></html>")
    found = {v["id"] for v in axe(axe_page)}
    assert {"html-has-lang", "image-alt", "link-name"} <= found, found


def test_thai_links_underline_below_the_marks_under_the_line(server, axe_page):  # noqa: F811
    """ู and the tail of ฏ reach below the baseline: Thai links drop their underline."""
    page = axe_page
    page.set_viewport_size(PHONE)
    offset = "(a) => getComputedStyle(a).textUnderlineOffset"
    page.goto(server["base"] + "/?q=" + "ตะกั่ว" + "&lang=th")
    link = page.locator("ol.results a.name").first
    assert float(link.evaluate(offset).removesuffix("px")) >= 4
    assert page.locator("a[hreflang=en]").evaluate(offset) == "auto", "English links as they were"
    page.goto(server["base"] + "/?q=lead&lang=en")
    assert page.locator("ol.results a.name").first.evaluate(offset) == "auto"
