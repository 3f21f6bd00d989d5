"""Issue: certificate render time and full issuance rate.

Targets: render (certificate + 5-page annex) <= 150 ms; full issuance (render,
sign B-LTA, store) >= 8 per second on one core. Baseline, same run: a bare
1-page fpdf2 document with text shaping on.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import fontpkg_sarabun
from fpdf import FPDF
from sqlalchemy import select

from registry.certificates.issuance import find_accreditation, issue
from registry.certificates.pdf.document import render
from registry.changes import DEVELOPMENT
from registry.pki.material import get_document_signer
from registry.register.models import Accreditation
from registry.web import current

from ..documents import demo_instance
from ..registry.certificates.test_pdf import content
from . import benchmark
from .signing import per_call


def bare_document() -> bytes:
    pdf = FPDF()
    pdf.add_font("Sarabun", "", str(fontpkg_sarabun.ROOT / "files" / "Sarabun-Regular.ttf"))
    pdf.set_font("Sarabun", size=12)
    pdf.set_text_shaping(True)
    pdf.add_page()
    pdf.cell(text="ใบรับรองความสามารถ Certificate of Accreditation")
    return bytes(pdf.output())


@benchmark("documents")
def run(args: argparse.Namespace) -> None:
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    sample = content(1)
    five_pages = next(
        content(n)
        for n in range(60, 400, 5)
        if render(content(n)).count(b"/Type /Page\n") >= 6
        or render(content(n)).count(b"/Type /Page") >= 7
    )
    pages = render(five_pages).count(b"/Type /Page") - 1
    render(sample)
    baseline = per_call(bare_document)
    certificate = per_call(lambda: render(five_pages))
    print(f"bare 1-page fpdf2 (shaping on):      {baseline * 1000:7.1f} ms")
    print(
        f"certificate + annex ({len(five_pages.scope)} items, {pages} pages): "
        f"{certificate * 1000:7.1f} ms  ({certificate / baseline:.1f}x the bare page)  "
        f"target <= 150 ms: {'met' if certificate <= 0.150 else 'NOT met'}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        app = demo_instance(Path(tmp), 200, PUBLIC_URL="https://registry.example.go.th")
        database = current.database(app)
        signer = get_document_signer(app)
        with database.session() as session:
            numbers = list(session.scalars(select(Accreditation.number).limit(400)))
        issued = 0
        started = datetime.now(UTC)
        deadline = 8.0
        for number in numbers:
            with database.transaction() as session:
                try:
                    issue(
                        session,
                        find_accreditation(session, number),
                        signer,
                        current.settings(app),
                        actor=DEVELOPMENT,
                    )
                except Exception:  # refused (withdrawn, expired, ...): skip
                    continue
            issued += 1
            if (datetime.now(UTC) - started).total_seconds() > deadline:
                break
        seconds = (datetime.now(UTC) - started).total_seconds()
        rate = issued / seconds
        print(
            f"full issuance (render + B-LTA + store, SQLite): {rate:6.1f} per second "
            f"({issued} in {seconds:.1f} s)  target >= 8/s: {'met' if rate >= 8 else 'NOT met'}"
        )
