"""The staff back office in Debian's Chromium, against ``accredit run`` (gunicorn).

The main flow of a legal act, as two people do it: an officer logs in with a
TOTP code and proposes a partial suspension of two scope items; the officer
finds no way to approve it, and a forged POST is refused; a decision maker
approves it; the public QR page and record show it; the audit log names both.
Screenshots of every back-office page at phone and desktop sizes, in English
and Thai, go to ``artefacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page

from registry.accounts.credentials import totp_code
from registry.dates import local_date
from registry.register.models import ScopeItem
from registry.register.standings import standings
from registry.register.status import ItemState
from registry.web import current

from ..documents import demo_instance, issue_certificates
from .harness import DESKTOP, PHONE, free_port, new_page, shoot

PASSWORD = "correct horse battery staple"


def accredit(env: dict[str, str], *args: str, stdin: str = "") -> str:
    script = Path(sys.executable).parent / "accredit"
    result = subprocess.run(
        [str(script), *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


class Person:
    def __init__(self, email: str, uri: str) -> None:
        self.email = email
        self.secret = base64.b32decode(parse_qs(urlsplit(uri).query)["secret"][0])
        self.step = 0

    def code(self) -> str:
        now = int(time.time()) // 30
        self.step = max(now - 1, self.step + 1)
        return totp_code(self.secret, self.step * 30)


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("office") / "instance"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = demo_instance(folder, 30, PUBLIC_URL=base)
    (issued,) = issue_certificates(app, 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    env.update({"ACCREDIT_INSTANCE": str(folder), "ACCREDIT_PUBLIC_URL": base})
    people = {}
    for key, name, roles in (
        ("officer", "Olivia Officer", ["officer"]),
        ("decider", "Dan Decider", ["decision_maker", "auditor"]),
    ):
        out = accredit(
            env,
            "staff",
            "add",
            f"{key}@agency.test",
            "--name",
            name,
            *[a for r in roles for a in ("--role", r)],
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        uri = next(line for line in out.splitlines() if line.startswith("otpauth://"))
        people[key] = Person(f"{key}@agency.test", uri)
    number = issued.certificate.number.split("/")[0]
    with current.database(app).session() as session:
        acc_id = issued.certificate.accreditation_id
        standing = standings(session, datetime.now(UTC), [acc_id])[acc_id]
        items = session.query(ScopeItem).filter(ScopeItem.accreditation_id == acc_id).all()
        active = [i for i in items if standing.items[i.id] is ItemState.ACTIVE]
        two = [(i.id, f"{i.product_en}") for i in active[:2]]
    current.database(app).engine.dispose()
    script = Path(sys.executable).parent / "accredit"
    process = subprocess.Popen(
        [str(script), "run", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90  # a loaded 2-CPU machine starts gunicorn slowly
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError as exc:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("accredit run did not start") from exc
            time.sleep(0.2)
    try:
        yield {
            "base": base,
            "people": people,
            "number": number,
            "items": two,
            "qr": issued.certificate.qr_url,
        }
    finally:
        process.terminate()
        process.wait(timeout=35)  # gunicorn lets requests finish for graceful_timeout (30 s)


def log_in(page: Page, base: str, person: Person) -> None:
    page.goto(f"{base}/staff/login")
    page.locator("#email").fill(person.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#code").fill(person.code())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/staff/$"))


def test_a_partial_suspension_by_two_people_end_to_end(office, browser):
    base, number = office["base"], office["number"]
    officer = new_page(browser, DESKTOP)
    officer.goto(f"{base}/staff/login")
    shoot(officer, "office-login-desktop-en")
    log_in(officer, base, office["people"]["officer"])
    shoot(officer, "office-dashboard-desktop-en")

    officer.goto(f"{base}/staff/accreditations/{number}")
    shoot(officer, "office-accreditation-desktop-en")
    officer.goto(f"{base}/staff/accreditations/{number}/propose/suspension")
    today = local_date(datetime.now(UTC))
    officer.get_by_label("Takes effect on").fill(today.isoformat())
    officer.get_by_label("Suspended until (last day)").fill(
        (today + timedelta(days=90)).isoformat()
    )
    for item_id, _ in office["items"]:
        officer.locator(f'input[name="items"][value="{item_id}"]').check()
    officer.get_by_label("Reason (English)").fill("Proficiency testing failed for lead")
    officer.get_by_label("Reason (Thai)").fill("ผลการทดสอบความชำนาญเรื่องตะกั่วไม่ผ่าน")
    shoot(officer, "office-propose-desktop-en")
    officer.get_by_role("button", name="Propose").click()
    officer.wait_for_url(re.compile(r".*/staff/cases/C-\d{4}-\d{5}$"))
    case_url = officer.url
    assert "Proposed" in officer.locator("h1").inner_text()
    # The same officer finds no way to approve it ...
    assert officer.get_by_role("button", name="Record the decision").count() == 0
    assert "Only a decision maker decides." in officer.content()
    shoot(officer, "office-case-proposed-desktop-en")
    # ... and a forged POST, with the officer's own session and CSRF token, is refused.
    token = officer.locator('input[name="csrf_token"]').first.get_attribute("value")
    forged = officer.request.post(
        f"{case_url}/decision",
        form={"csrf_token": token, "outcome": "approve", "note_en": "x", "note_th": "x"},
    )
    assert forged.status == 403

    decider = new_page(browser, DESKTOP)
    log_in(decider, base, office["people"]["decider"])
    assert "Waiting for your decision" in decider.content()
    decider.goto(case_url)
    decider.locator("select#outcome").select_option("approve")
    decider.get_by_label("Reasons (English)").fill("The results show the method failed")
    decider.get_by_label("Reasons (Thai)").fill("ผลแสดงว่าวิธีทดสอบไม่ผ่าน")
    shoot(decider, "office-case-decide-desktop-en")
    decider.get_by_role("button", name="Record the decision").click()
    decider.wait_for_url(case_url)
    assert "Approved" in decider.locator("h1").inner_text()
    shoot(decider, "office-case-approved-desktop-en")

    # The public sees it at once, on the QR page and the record page.
    public = new_page(browser, PHONE)
    public.goto(office["qr"])
    assert "partly suspended" in public.locator("h1").inner_text()
    shoot(public, "office-effect-qr-phone-en")
    public.goto(f"{base}/a/{number}")
    assert "Partially suspended" in public.locator("h1").inner_text()
    suspended = public.locator("tr", has=public.locator(".status-suspended"))
    names = suspended.all_inner_texts()
    assert len(names) == 2
    for _, product in office["items"]:
        assert any(product in row for row in names)

    decider.goto(f"{base}/staff/audit?action=accreditation.")
    rows = decider.locator("tbody tr").all_inner_texts()
    assert any("Olivia Officer" in r and "Dan Decider" in r for r in rows), rows
    shoot(decider, "office-audit-desktop-en")


@pytest.fixture(scope="module")
def signed_in(office, browser) -> dict:
    """One login, its cookies reused: a TOTP code is good for one login only."""
    page = new_page(browser, DESKTOP)
    log_in(page, office["base"], office["people"]["decider"])
    return page.context.storage_state()


@pytest.mark.parametrize("lang", ["en", "th"])
@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_back_office_pages_at_phone_and_desktop_in_both_languages(
    office, browser, signed_in, lang, size, viewport
):
    base = office["base"]
    context = browser.new_context(
        viewport=viewport, locale="th-TH" if lang == "th" else "en-US", storage_state=signed_in
    )
    page = context.new_page()
    for name, path in (
        ("dashboard", "/staff/"),
        ("cases", "/staff/cases?state=all"),
        ("accreditation", f"/staff/accreditations/{office['number']}"),
        ("cabs", "/staff/cabs/"),
        ("audit", "/staff/audit"),
    ):
        page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert page.locator("h1").count() == 1
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"] + 1, f"{name} scrolls sideways at {viewport['width']} px"
        shoot(page, f"office-{name}-{size}-{lang}")
    if lang == "th":
        assert "บันทึกการตรวจสอบ" in page.content()
