"""Real documents and instances for tests: small PDFs made with fpdf2, demo registers.

Everything here goes through the same write path as the product
(``changes.record``): demo loads, issuance and decisions are recorded as a
development instance records them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from fpdf import FPDF
from sqlalchemy import select

from registry import db
from registry.app import create_app
from registry.certificates.issuance import IssuanceRefused, Issued, find_accreditation, issue
from registry.changes import DEVELOPMENT
from registry.db import Database
from registry.demo import generator as demo
from registry.pki import material
from registry.register.models import Accreditation
from registry.register.standings import standings
from registry.register.status import AccreditationStatus
from registry.search.bitmaps import snapshots
from registry.web import current


def blank_pdf(text: str = "Accreditation certificate") -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=16)
    doc.cell(text=text)
    return bytes(doc.output())


def load_demo(database: Database, bodies: int, now: datetime | None = None) -> int:
    """Add ``bodies`` demo bodies through the write path, as ``accredit init --demo`` does."""
    now = now or datetime.now(UTC)
    with database.transaction() as session:
        return demo.add(session, bodies, now.date(), now)


def demo_instance(folder: Path, bodies: int, **config: Any) -> Flask:
    """A throwaway instance: migrated database, agency PKI and ``bodies`` demo bodies."""
    folder.mkdir(parents=True, exist_ok=True)
    app = create_app({"INSTANCE": str(folder), **config})
    database = current.database(app)
    db.upgrade(database.engine)
    material.create_pki(current.settings(app))
    load_demo(database, bodies)
    return app


@contextmanager
def rolled_back(base: Flask) -> Iterator[Flask]:
    """An app on ``base``'s instance whose database work is undone at the end.

    Every session of the new app joins one connection's transaction (commits
    become savepoints), and that transaction is rolled back on exit.
    """
    engine = current.database(base).engine
    with engine.connect() as connection:
        outer = connection.begin()
        app = create_app(settings=current.settings(base), database=Database.bound_to(connection))
        app.config["TESTING"] = True
        try:
            yield app
        finally:
            outer.rollback()
            snapshots.forget()


def valid_numbers(app: Flask) -> list[str]:
    """Numbers of the accreditations that are valid now, in id order."""
    with current.database(app).session() as session:
        found = standings(session, datetime.now(UTC))
        return [
            a.number
            for a in session.scalars(select(Accreditation).order_by(Accreditation.id))
            if found[a.id].status is AccreditationStatus.VALID
        ]


def issue_certificates(app: Flask, count: int) -> list[Issued]:
    """Issue ``count`` certificates for valid accreditations, as a development instance."""
    database = current.database(app)
    signer = material.get_document_signer(app)
    issued = []
    for number in valid_numbers(app):
        try:
            with database.transaction() as session:
                accreditation = find_accreditation(session, number)
                issued.append(
                    issue(session, accreditation, signer, current.settings(app), actor=DEVELOPMENT)
                )
        except IssuanceRefused:
            continue
        if len(issued) == count:
            break
    material.publish_log(current.settings(app), database)
    return issued
