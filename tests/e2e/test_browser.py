"""End to end in a real browser: Debian's Chromium driven by Playwright.

The register runs as it does in production (``accredit run``, gunicorn) on a
free port. A certificate is issued, its page 1 rasterised, the QR decoded with
zxing-cpp, and the decoded URL opened in the browser. Screenshots at phone and
desktop sizes, in both languages, are saved under ``artefacts/screenshots``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import zxingcpp
from cryptography.hazmat.primitives import serialization
from PIL import Image

from registry.pki.material import load_pki
from registry.register.status import EventKind
from registry.web import current

from ..documents import demo_instance, issue_certificates
from ..registry import factories
from .harness import DESKTOP, NARROW, PHONE, free_port, new_page, shoot


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("e2e") / "instance"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = demo_instance(folder, 40, PUBLIC_URL=base)
    (issued,) = issue_certificates(app, 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    env.update({"ACCREDIT_INSTANCE": str(folder), "ACCREDIT_PUBLIC_URL": base})
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
                output = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"accredit run did not start: {output}") from exc
            time.sleep(0.2)
    try:
        yield {
            "app": app,
            "base": base,
            "pdf": issued.pdf,
            "number": issued.certificate.number,
            "log_index": issued.certificate.log_index,
            "accreditation": issued.certificate.number.split("/")[0],
            "folder": folder,
        }
    finally:
        process.terminate()
        process.wait(timeout=35)  # gunicorn lets requests finish for graceful_timeout (30 s)


def decode_qr(pdf: bytes, folder: Path) -> str:
    source = folder / "certificate.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(source), str(folder / "p")],
        check=True,
    )
    image = Image.open(next(folder.glob("p*.png")))
    results = zxingcpp.read_barcodes(image)
    assert [r.format for r in results] == [zxingcpp.BarcodeFormat.QRCode]
    return results[0].text


def test_scan_open_suspend_reload(server, browser, tmp_path):
    url = decode_qr(server["pdf"], tmp_path)
    assert url.startswith(server["base"].upper().replace("HTTP://", "HTTP://"))

    phone = new_page(browser, PHONE)
    phone.goto(url)
    assert phone.locator("h1").inner_text().strip().endswith("Valid")
    assert "Genuine certificate" in phone.content()
    shoot(phone, "qr-valid-phone-en")

    phone.goto(url + "?lang=th")
    assert "ใช้ได้" in phone.locator("h1").inner_text()
    shoot(phone, "qr-valid-phone-th")

    desktop = new_page(browser, DESKTOP)
    desktop.goto(url)
    shoot(desktop, "qr-valid-desktop-en")

    factories.decide(
        server["app"],
        server["accreditation"],
        EventKind.SUSPENDED,
        reason="Failed to maintain its quality system",
        reason_th="ไม่รักษาระบบคุณภาพ",
    )

    phone.reload()  # the Thai page: the cookie keeps the language
    assert "พักใช้" in phone.locator("h1").inner_text()
    shoot(phone, "qr-suspended-phone-th")
    desktop.reload()
    assert "Suspended since" in desktop.locator("h1").inner_text()
    shoot(desktop, "qr-suspended-desktop-en")
    desktop.goto(url + "?lang=th")
    shoot(desktop, "qr-suspended-desktop-th")
    english_phone = new_page(browser, PHONE)
    english_phone.goto(url)
    assert "Suspended since" in english_phone.locator("h1").inner_text()
    shoot(english_phone, "qr-suspended-phone-en")


def test_search_and_record_pages_at_phone_and_desktop_sizes(server, browser):
    base = server["base"]
    for size, viewport in (("narrow", NARROW), ("desktop", DESKTOP)):
        for lang in ("en", "th"):
            page = new_page(browser, viewport)
            page.goto(f"{base}/?lang={lang}")
            page.fill("#q", "ตะกั่ว" if lang == "th" else "lead")
            page.click("form.search button")
            page.wait_for_load_state()
            assert "q=" in page.url
            results = page.locator("ol.results li")
            assert results.count() > 0
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"horizontal scrolling at {size}"
            shoot(page, f"search-{size}-{lang}")
            results.first.locator("a.name").click()
            page.wait_for_load_state()
            assert page.locator("#scope").count() == 1
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"horizontal scrolling at {size}"
            shoot(page, f"accreditation-{size}-{lang}")


def test_pages_work_without_javascript_and_load_nothing_external(server, browser):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(server["base"] + "/?q=rice")
    assert page.locator("ol.results li").count() > 0
    page.goto(server["base"] + "/verify")
    assert page.locator("input[type=file]").count() == 1
    assert all(u.startswith(server["base"]) for u in requested), requested


def test_verify_page_in_the_browser(server, browser, tmp_path):
    """A genuine file, a changed copy (with the signed original offered), a foreign-signed
    one, and a 10-file batch with its summary: phone and desktop, English and Thai."""
    from ..verifier.test_foreign import self_signed

    genuine = tmp_path / "certificate.pdf"
    genuine.write_bytes(server["pdf"])
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(server["pdf"] + b"\n% appended\n")
    foreign = tmp_path / "foreign.pdf"
    with ThreadPoolExecutor(1) as thread:  # pyHanko runs its own event loop; Playwright's runs
        foreign.write_bytes(thread.submit(self_signed).result())
    batch = [genuine, altered, foreign]
    for i in range(7):
        copy = tmp_path / f"copy-{i}.pdf"
        copy.write_bytes(server["pdf"])
        batch.append(copy)
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        for lang in ("en", "th"):
            page = new_page(browser, viewport)
            page.goto(f"{server['base']}/verify?lang={lang}")
            page.set_input_files("#file", [str(genuine), str(altered), str(foreign)])
            page.click("form button[type=submit]")
            page.wait_for_load_state()
            cards = page.locator("section.card")
            assert cards.count() == 3
            assert page.locator("[role=status]").count() == 1
            text = page.content()
            assert "forged" not in text.lower()
            assert cards.nth(1).locator("a[download$='-as-signed.pdf']").count() == 1
            if lang == "en":
                # Current, or (after the first test suspended it) no longer current.
                assert "Genuine" in cards.nth(0).inner_text()
                assert "Changed after it was signed" in cards.nth(1).inner_text()
                assert "What the agency signed" in cards.nth(1).inner_text()
                assert "Not signed by" in cards.nth(2).inner_text()
                assert "Not altered since it was signed" in cards.nth(2).inner_text()
            else:
                assert "ถูกเปลี่ยนแปลงหลังจากลงนาม" in cards.nth(1).inner_text()
                assert "ไม่ได้ลงนามโดย" in cards.nth(2).inner_text()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"horizontal scrolling at {size}"
            shoot(page, f"verify-{size}-{lang}")
            page.goto(f"{server['base']}/verify?lang={lang}")
            page.set_input_files("#file", [str(p) for p in batch])
            page.click("form button[type=submit]")
            page.wait_for_load_state()
            summary = page.locator("section.summary")
            assert summary.count() == 1
            assert summary.locator("tbody tr").count() == 10
            assert page.locator("section.card").count() == 10
            assert summary.locator("a[download='verification-report.csv']").count() == 1
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"horizontal scrolling at {size} (batch)"
            shoot(page, f"verify-batch-{size}-{lang}")


def test_verify_command_asks_a_remote_register(server, tmp_path):
    """``accredit verify --registry URL`` outside any instance: trust from --trust only."""
    genuine = tmp_path / "certificate.pdf"
    genuine.write_bytes(server["pdf"])
    root = tmp_path / "root.pem"
    pki = load_pki(current.settings(server["app"]))
    root.write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    script = Path(sys.executable).parent / "accredit"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    env["ACCREDIT_INSTANCE"] = str(tmp_path / "no-instance")

    def verify(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), "verify", "--json", *args, str(genuine)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = verify("--registry", server["base"], "--trust", str(root))
    report = json.loads(done.stdout)[0]
    assert report["document"] == "authentic", done.stdout + done.stderr
    assert "warning" not in done.stderr  # the register's CRLs were read
    assert report["status_source"] == "live"
    assert report["status"] in ("current", "suspended")  # the first test suspends it
    assert done.returncode in (0, 1)
    binding = next(c for c in report["checks"] if c["name"] == "registry_binding")
    assert binding["passed"]
    # The log key, the checkpoint, the entry bundle and the proof all came over HTTP.
    logged = next(c for c in report["checks"] if c["name"] == "public_log")
    assert logged["passed"], logged
    assert f"recorded in the public log at index {server['log_index']} " in logged["detail"]

    unreachable = verify("--registry", f"http://127.0.0.1:{free_port()}", "--trust", str(root))
    assert unreachable.returncode == 4  # the QR keys cannot be fetched
    assert "cannot read the QR keys" in unreachable.stderr
    assert verify("--registry", "file:///etc/passwd", "--trust", str(root)).returncode == 4
    assert verify("--registry", server["base"]).returncode == 4  # no --trust outside an instance


def test_dropping_files_on_the_verify_page_checks_them(server, browser):
    page = new_page(browser, DESKTOP)
    page.goto(f"{server['base']}/verify")
    transfer = page.evaluate_handle(
        """(bytes) => {
            const transfer = new DataTransfer();
            const type = {type: "application/pdf"};
            const file = new File([new Uint8Array(bytes)], "dropped.pdf", type);
            transfer.items.add(file);
            return transfer;
        }""",
        list(server["pdf"]),
    )
    with page.expect_navigation():
        page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    card = page.locator("section.card")
    assert card.count() == 1
    assert "dropped.pdf" in card.inner_text()
    assert "Genuine" in card.inner_text()
    shoot(page, "verify-dropped-desktop-en")
