"""``accredit exports``: build the open-data files of the register's current version now.

A request builds a missing export itself (``opendata.files``), and waits for
it; at national scale that is minutes after each change. Run this after a
decision batch, from cron, or after ``accredit tick``, so that downloads find
the file ready. It builds under the same lock, so it never races a request.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from ..opendata import files
from .base import database, require_schema, settings


@click.command("exports")
@with_appcontext
def exports_command() -> None:
    """Build /exports/registry.csv and .json for the current register version."""
    require_schema()
    found = settings()
    publication = files.Publication.of(found)
    for fmt in files.FORMATS:
        started = datetime.now(UTC)
        built = files.ensure(database(), found.instance, fmt, started, publication)
        seconds = (datetime.now(UTC) - started).total_seconds()
        click.echo(
            f"{fmt}: version {built.tag}, {built.size:,} bytes, ETag {built.etag} "
            f"({seconds:.1f} s) {built.path}"
        )
