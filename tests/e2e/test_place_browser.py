"""Place in a real browser: the province facet of search, and sites on the record pages.

Screenshots at 390 and 1280 px, in English and Thai, for a person to look at.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

from .harness import DESKTOP, PHONE, SHOTS, new_page, shoot
from .test_browser import server  # noqa: F401  (the running register, shared set-up)

SIZES = ((PHONE, "phone"), (DESKTOP, "desktop"))


def fetch(url: str) -> dict:
    with urlopen(url) as answer:
        return json.load(answer)


def total(page) -> int:
    return int(re.sub(r"\D", "", page.locator("h2#results").inner_text()))


def body_with_sites(base: str) -> tuple[str, int, list[dict]]:
    """An accreditation whose body works at more than one site, if the demo has one."""
    found = fetch(f"{base}/api/v1/search?per_page=100")["results"]
    best = None
    for hit in found[:40]:
        record = fetch(f"{base}/api/v1/accreditations/{hit['accreditation']}")
        candidate = (hit["accreditation"], hit["cab_id"], record["sites"])
        if best is None or len(record["sites"]) > len(best[2]):
            best = candidate
        if len(record["sites"]) > 1:
            break
    assert best is not None
    return best


def test_the_province_facet_narrows_a_search(server, browser):  # noqa: F811
    base = server["base"]
    for viewport, size in SIZES:
        for lang, heading in (("en", "Province or country"), ("th", "จังหวัดหรือประเทศ")):
            page = new_page(browser, viewport)
            page.goto(f"{base}/search?q=rice&lang={lang}")
            before = total(page)
            facets = page.locator("aside.facets")
            title = facets.locator("h2", has_text=heading)
            assert title.count() == 1, heading
            first = title.locator("xpath=following-sibling::ul[1]/li/a").first
            name = first.inner_text().strip()
            first.click()
            page.wait_for_load_state()
            chosen = parse_qs(urlsplit(page.url).query)["province"][0]
            assert chosen
            after = total(page)
            assert 0 < after <= before
            selected = facets.locator("li.selected a[aria-current=true]", has_text=name)
            assert selected.count() == 1
            shoot(page, f"search-province-{size}-{lang}")


def test_record_pages_list_sites_with_addresses(server, browser):  # noqa: F811
    base = server["base"]
    number, cab_id, sites = body_with_sites(base)
    for viewport, size in SIZES:
        for lang in ("en", "th"):
            page = new_page(browser, viewport)
            for path, kind, feeds in (
                (f"/a/{number}", "accreditation", "/feeds/a/"),
                (f"/cab/{cab_id}", "cab", "/feeds/cab/"),
            ):
                page.goto(f"{base}{path}?lang={lang}")
                listed = page.locator("ul.sites > li")
                assert listed.count() == len(sites)
                for item, site in zip(listed.all(), sites, strict=True):
                    address = site["address_th"] if lang == "th" else site["address_en"]
                    assert address in item.inner_text()
                    assert item.is_visible()
                feed = page.locator("p.feed a")
                assert feed.is_visible()
                assert feed.get_attribute("href").startswith(feeds)
                # Nothing wider than the screen.
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], (path, size, width)
                shoot(page, f"record-sites-{kind}-{size}-{lang}")
                # The sites themselves, close up: a whole record page is too long to read.
                page.locator("h2#sites").scroll_into_view_if_needed()
                page.screenshot(path=str(SHOTS / f"record-sites-{kind}-{size}-{lang}-view.png"))
