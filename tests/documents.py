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


def valid_numbers(app: Flask) -> list[str]:
    """Numbers of the accreditations that are valid now, in id order."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from registry import db
    from registry.models import Accreditation
    from registry.standings import standings
    from registry.status import AccreditationStatus

    with Session(db.get_engine(app)) as session:
        found = standings(session, datetime.now(UTC))
        return [
            a.number
            for a in session.scalars(select(Accreditation).order_by(Accreditation.id))
            if found[a.id].status is AccreditationStatus.VALID
        ]


def issue_certificates(app: Flask, count: int) -> list[Any]:
    """Issue ``count`` certificates (``issuance.Issued``) for valid accreditations."""
    from sqlalchemy.orm import Session

    from registry import agency, db
    from registry.issuance import IssuanceRefused, find_accreditation, issue

    engine = db.get_engine(app)
    signer = agency.get_document_signer(app)
    issued = []
    for number in valid_numbers(app):
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                accreditation = find_accreditation(session, number)
                issued.append(issue(session, accreditation, signer, app.config))
        except IssuanceRefused:
            continue
        if len(issued) == count:
            break
    return issued
