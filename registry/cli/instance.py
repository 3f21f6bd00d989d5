"""``accredit init``, ``list`` and ``tick``: the instance, its register, and the calendar."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.pki import FOLDER_MODE, private_folder

from .. import db
from ..dates import local_date
from ..demo import generator as demo
from ..pki import material
from ..register.models import Accreditation, Cab
from ..register.standings import standings
from ..register.status import PUBLIC_STATUSES
from ..search import index
from .base import database, development_only, publish_log, require_schema, settings
from .certificates import issue_demo_certificates


@click.command("init")
@click.option(
    "--demo",
    "demo_count",
    type=click.IntRange(min=0),
    default=0,
    help="Add N demo bodies (deterministic; existing ones are kept).",
)
@click.option(
    "--anchor",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day demo histories are built around (default: today in Bangkok).",
)
@click.option(
    "--issue",
    "issue_count",
    type=click.IntRange(min=0),
    default=0,
    help="Make sure K accreditations have an issued certificate (demo).",
)
@with_appcontext
def init_command(demo_count: int, anchor: datetime | None, issue_count: int) -> None:
    """Create or upgrade the instance: folder, database schema, demo data."""
    found = settings()
    if demo_count or issue_count:
        development_only("demo data (--demo, --issue)")
    private_folder(found.instance)
    found.instance.chmod(FOLDER_MODE)  # an instance made before this rule, too
    engine = database().engine
    db.check_connection(engine)
    before = db.current_revision(engine)
    db.upgrade(engine)
    after = db.current_revision(engine)
    if before == after:
        click.echo(
            f"database {engine.url.render_as_string(hide_password=True)} is up to date "
            f"(revision {after})"
        )
    else:
        click.echo(f"database upgraded from {before or 'empty'} to {after}")
    if material.exists(found):
        material.warn_if_unencrypted(found)
        material.load_pki(found).check_keys()
        click.echo(f"agency PKI in {found.pki_folder}")
    else:
        pki = material.create_pki(found)
        click.echo(f"agency PKI created in {pki.folder} ({pki.config.algorithm})")
    if demo_count:
        day = anchor.date() if anchor else local_date(datetime.now(UTC))
        started = datetime.now(UTC)
        with database().transaction() as session:
            added = demo.add(session, demo_count, day, started)
        seconds = (datetime.now(UTC) - started).total_seconds()
        click.echo(f"demo data: {added} bodies added ({demo_count} requested) in {seconds:.1f} s")
    started = datetime.now(UTC)
    with database().transaction() as session:
        indexed = index.ensure_indexed(session, started)
    if indexed:
        seconds = (datetime.now(UTC) - started).total_seconds()
        click.echo(f"search index: {indexed} accreditations indexed in {seconds:.1f} s")
    if issue_count:
        issue_demo_certificates(issue_count)
    else:
        publish_log()


def accreditation_rows(session: Session, at: datetime) -> list[dict[str, Any]]:
    found = standings(session, at)
    rows = []
    query = (
        select(
            Accreditation.id,
            Accreditation.number,
            Accreditation.standard,
            Accreditation.valid_until,
            Cab.name_en,
            Cab.name_th,
        )
        .join(Cab)
        .order_by(Accreditation.number)
    )
    for acc_id, number, standard, valid_until, name_en, name_th in session.execute(query):
        standing = found[acc_id]
        rows.append(
            {
                "number": number,
                "status": standing.status.value,
                "since": standing.since.isoformat() if standing.since else None,
                "cab": name_en,
                "cab_th": name_th,
                "standard": standard,
                "valid_until": valid_until.isoformat(),
            }
        )
    return rows


STATUS_CHOICES = [s.value for s in PUBLIC_STATUSES] + ["pending"]


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option(
    "--status",
    type=click.Choice(STATUS_CHOICES),
    default=None,
    help="Only accreditations with this status.",
)
@with_appcontext
def list_command(as_json: bool, status: str | None) -> None:
    """Accreditation numbers with their status, one per line."""
    require_schema()
    with database().session() as session:
        rows = accreditation_rows(session, datetime.now(UTC))
    if status:
        rows = [r for r in rows if r["status"] == status]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        click.echo(f"{row['number']}\t{row['status']}")
