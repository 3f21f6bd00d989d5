"""Finding a lab as people really search, in a real browser (issue 15's checks).

Thai as it is written, a suspended lab's number, a lower-case certificate
number, and the matching scope line under each result; each with screenshots.
"""

from __future__ import annotations

import json
import re
from urllib.request import urlopen

from .harness import DESKTOP, PHONE, new_page, shoot
from .test_browser import server  # noqa: F401  (the running register, shared set-up)


def total(page) -> int:
    return int(re.sub(r"\D", "", page.locator("h2#results").inner_text()))


def search_for(page, base: str, text: str, lang: str) -> None:
    page.goto(f"{base}/?lang={lang}")
    page.fill("#q", text)
    page.click("form.search button")
    page.wait_for_load_state()


def test_thai_as_written_finds_what_its_spaced_form_finds(server, browser):  # noqa: F811
    base = server["base"]
    for viewport, size in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page = new_page(browser, viewport)
        search_for(page, base, "ตะกั่ว ข้าว", "th")
        spaced = total(page)
        search_for(page, base, "ตะกั่วในข้าว", "th")
        assert total(page) == spaced > 0
        first = page.locator("ol.results > li").first
        assert first.locator("ul.matches mark").count() > 0  # why it matched
        shoot(page, f"search-thai-as-written-{size}-th")
        search_for(page, base, "ตะกั่ว rice", "en")
        assert total(page) > 0
        assert page.locator("ol.results > li").first.locator("ul.matches mark").count() > 0
        shoot(page, f"search-mixed-{size}-en")
        first = page.locator("ol.results > li").first
        first.locator("a.name").click()
        page.wait_for_load_state()
        assert "q=" in page.url and page.url.endswith("#scope")
        assert page.input_value("#scope-q")
        shoot(page, f"search-result-record-filtered-{size}-en")


def test_identifiers_land_whatever_the_status(server, browser):  # noqa: F811
    base = server["base"]
    with urlopen(f"{base}/api/v1/search?status=suspended&per_page=1") as answer:
        suspended = json.load(answer)["results"][0]["accreditation"]
    page = new_page(browser, PHONE)
    search_for(page, base, suspended, "en")
    assert page.url == f"{base}/a/{suspended}"
    assert "Suspended" in page.content()
    shoot(page, "search-suspended-number-phone-en")

    number = server["number"]
    page.goto(f"{base}/?lang=en")
    page.fill("#number", number.lower())
    page.click("form.lookup button")
    page.wait_for_load_state()
    assert page.url == f"{base}/c/{number}"
    shoot(page, "search-lowercase-certificate-phone-en")

    search_for(page, base, "moistre", "en")
    assert page.locator(".suggestions a").count() > 0
    shoot(page, "search-suggestions-phone-en")
