"""Real documents for tests: small PDFs made with fpdf2."""

from __future__ import annotations

from fpdf import FPDF


def blank_pdf(text: str = "Accreditation certificate") -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=16)
    doc.cell(text=text)
    return bytes(doc.output())
