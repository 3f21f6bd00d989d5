"""``accredit issue`` and ``accredit documents``: certificate revisions and their stored copies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from verifier.qr import PATH_MARKER, token_of

from ..certificates.issuance import IssuanceRefused, find_accreditation, issue
from ..certificates.models import Certificate
from ..certificates.pdf.document import MissingGlyphs
from ..certificates.refresh import refresh_due
from ..changes import DEVELOPMENT
from ..pki import material
from ..register.models import Accreditation
from .base import (
    EXIT_REFUSED,
    database,
    development_only,
    fail,
    publish_log,
    require_schema,
    settings,
    write_atomically,
)


def issue_demo_certificates(count: int) -> None:
    """Issue revision 1 for the first accreditations that can have one, up to ``count``."""
    found = database()
    has_certificate = (
        select(Certificate.id).where(Certificate.accreditation_id == Accreditation.id).exists()
    )
    with found.session() as session:
        have = session.scalar(select(func.count(func.distinct(Certificate.accreditation_id))))
        numbers = session.scalars(
            select(Accreditation.number).where(~has_certificate).order_by(Accreditation.id)
        ).all()
    signer = material.get_document_signer(current_app)
    issued = []
    for number in numbers:
        if (have or 0) + len(issued) >= count:
            break
        try:
            with found.transaction() as session:
                made = issue(
                    session,
                    find_accreditation(session, number),
                    signer,
                    settings(),
                    actor=DEVELOPMENT,
                )
        except IssuanceRefused:
            continue
        issued.append(made.certificate)
    click.echo(f"demo certificates: {len(issued)} issued, {(have or 0) + len(issued)} in all")
    publish_log()


#: How many certificates' QR addresses a run prints.
SHOWN_QR_URLS = 3


def echo_qr_urls() -> None:
    """Print a few certificates' QR addresses, as this instance serves them.

    The signed payload does not name the host, so the address is built on
    this run's public URL: a certificate issued while the register ran on
    another port opens here too (its printed PDF keeps the old address).
    """
    public_url = settings().public_url
    with database().session() as session:
        urls = session.execute(
            select(Certificate.number, Certificate.qr_url)
            .where(Certificate.qr_url.is_not(None))
            .order_by(Certificate.id.desc())
            .limit(SHOWN_QR_URLS)
        ).all()
    for number, url in reversed(urls):
        click.echo(
            f"certificate {number}: {public_url.rstrip('/').upper()}{PATH_MARKER}{token_of(url)}"
        )


@click.command("issue")
@click.argument("accreditation_no")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the signed PDF here.",
)
@with_appcontext
def issue_command(accreditation_no: str, output: Path | None) -> None:
    """Render, sign (PAdES B-LTA) and record the next certificate revision (development)."""
    development_only("accredit issue")
    require_schema()
    signer = material.get_document_signer(current_app)
    try:
        with database().transaction() as session:
            acc = find_accreditation(session, accreditation_no)
            issued = issue(session, acc, signer, settings(), actor=DEVELOPMENT)
    except (IssuanceRefused, MissingGlyphs) as exc:
        fail(str(exc), EXIT_REFUSED)
    cert = issued.certificate
    if output:
        write_atomically(output, issued.pdf)
    click.echo(f"certificate: {cert.number}")
    click.echo(f"revision:    {cert.revision}")
    click.echo(f"sha256:      {cert.sha256}")
    click.echo(f"qr url:      {cert.qr_url}")
    if output:
        click.echo(f"written to:  {output} ({len(issued.pdf)} bytes)")
    publish_log()


@click.group("documents")
def documents_group() -> None:
    """Stored certificate documents."""


@documents_group.command("refresh-lta")
@click.option(
    "--before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Refresh documents whose timestamp chain ends before this day "
    "(default: two years from now).",
)
@with_appcontext
def refresh_lta_command(before: datetime | None) -> None:
    """Add a fresh document timestamp to stored certificates before their chain runs out."""
    development_only("accredit documents refresh-lta")
    require_schema()
    now = datetime.now(UTC)
    limit = before.replace(tzinfo=UTC) if before else now + timedelta(days=730)
    signer = material.get_document_signer(current_app)
    refreshed = checked = 0
    for result in refresh_due(database(), signer, before=limit, actor=DEVELOPMENT, now=now):
        checked += 1
        if result.refreshed is None:
            continue
        refreshed += 1
        ended = f"{result.chain_ends:%Y-%m-%d}" if result.chain_ends else "never"
        click.echo(
            f"{result.number}: timestamp chain ended {ended}; refreshed -> {result.refreshed[:16]}"
        )
    click.echo(f"{refreshed} of {checked} certificates refreshed (limit {limit:%Y-%m-%d})")
    publish_log()
