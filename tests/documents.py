"""Real documents for tests: small PDFs made with fpdf2."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from fpdf import FPDF


def blank_pdf(text: str = "Accreditation certificate") -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=16)
    doc.cell(text=text)
    return bytes(doc.output())


def demo_instance(folder: Path, bodies: int, **config: Any) -> Flask:
    """A throwaway instance: migrated database, agency PKI and ``bodies`` demo bodies."""
    from sqlalchemy.orm import Session

    from registry import agency, create_app, db, demo, freshness

    folder.mkdir(parents=True, exist_ok=True)
    app = create_app({"INSTANCE": str(folder), **config})
    engine = db.get_engine(app)
    db.upgrade(engine)
    agency.create_pki(app.config)
    with engine.begin() as conn:
        demo.load(conn, bodies, datetime.now(UTC).date())
    with Session(engine) as session, session.begin():
        freshness.ensure_indexed(session, datetime.now(UTC))
    return app
