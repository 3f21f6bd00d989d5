"""The contact, trust and API docs pages in a real browser: phone, desktop, both languages.

Each is shot for a person to look at, and checked for what a phone reader
would trip on first: a page wider than the screen (a long fingerprint or a
command line that does not wrap or scroll in its own box).
"""

from __future__ import annotations

import pytest

from .harness import DESKTOP, PHONE, new_page, shoot
from .test_browser import server  # noqa: F401  (the running register, shared set-up)

PAGES = {
    "about": ("/about", "#report"),
    "trust": ("/trust", ".fingerprint"),
    "api-docs": ("/api", "#endpoints"),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_contact_and_trust_pages_fit_and_read_in_both_languages(server, browser, name):  # noqa: F811
    path, landmark = PAGES[name]
    for viewport, size in ((PHONE, "phone"), (DESKTOP, "desktop")):
        for lang in ("en", "th"):
            page = new_page(browser, viewport)
            page.goto(f"{server['base']}{path}?lang={lang}")
            assert page.locator("html").get_attribute("lang") == lang
            assert page.locator(landmark).is_visible()
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= viewport["width"], f"{name} {size} {lang}: {wide}px wide"
            footer = page.locator("footer")
            assert footer.locator('a[href="/about"]').count() == 1
            shoot(page, f"{name}-{size}-{lang}")
            page.context.close()


def test_a_record_shows_its_contact_and_recognition(server, browser):  # noqa: F811
    for viewport, size in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page = new_page(browser, viewport)
        page.goto(f"{server['base']}/a/{server['accreditation']}?lang=th")
        assert page.locator("#recognition").is_visible()
        page.locator("details.contact-details summary").click()
        assert page.locator("details.contact-details a[href^='mailto:']").is_visible()
        shoot(page, f"record-recognition-{size}-th")
        page.context.close()
