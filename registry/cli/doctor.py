"""``accredit doctor``: what stands between this instance and production, with the fixes.

It reads the settings and the instance's files only (no app, no database), so
it answers on a machine where nothing else works yet. The findings are the
ones that make ``ACCREDIT_ENV=production`` refuse to serve.
"""

from __future__ import annotations

import click

from .. import settings as settings_module
from ..readiness import production_findings
from .base import EXIT_REFUSED


@click.command("doctor")
def doctor_command() -> None:
    """Check the instance against production's rules; exit 1 if anything is found."""
    found = settings_module.from_environ()
    findings = production_findings(found)
    click.echo(f"instance {found.instance} (ACCREDIT_ENV={found.env.value})")
    if not findings:
        click.echo("ready for production: no findings")
        return
    for finding in findings:
        click.echo(f"- [{finding.code}] {finding}")
    click.echo(f"{len(findings)} finding(s); production refuses to serve until they are fixed")
    raise click.exceptions.Exit(EXIT_REFUSED)
