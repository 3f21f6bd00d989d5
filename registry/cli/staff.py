"""``accredit staff``: the bootstrap of accounts. Everything else happens in the back office.

These are the only commands that write anything in production, and they
write only accounts: the first registrar is made here, and then makes the
others in the back office. The password is read from standard input, never
from an argument (arguments end up in shell histories and process lists).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.services import AccountRefused, add_staff, disable_staff, find_staff
from ..staff.models import StaffRole, StaffUser
from .base import EXIT_REFUSED, database, fail, publish_log, require_schema, settings


@click.group("staff")
def staff_group() -> None:
    """Staff accounts: add the first ones, list them, disable one."""


@staff_group.command("add")
@click.argument("email")
@click.option("--name", required=True, help="The person's name as staff will see it.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in StaffRole]),
    help="A role to grant (repeatable).",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    required=True,
    help="Read the first password from standard input (at least 12 characters).",
)
@with_appcontext
def staff_add(email: str, name: str, roles: tuple[str, ...], password_stdin: bool) -> None:
    """Add an account; prints the TOTP provisioning URI (otpauth://) to enrol the app."""
    require_schema()
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        with database().transaction() as session:
            enrolled = add_staff(
                session,
                email,
                name,
                {StaffRole(r) for r in roles},
                password,
                issuer=settings().agency_short,
                by=None,
                now=datetime.now(UTC),
            )
            made = enrolled.staff.email
    except AccountRefused as exc:
        fail(str(exc), EXIT_REFUSED)
    publish_log()
    click.echo(f"account {made}: {', '.join(sorted(roles))}")
    click.echo("scan or type this into an authenticator app (it is shown once):")
    click.echo(enrolled.provisioning_uri)


@staff_group.command("list")
@with_appcontext
def staff_list() -> None:
    """Every account with its roles and whether it can log in."""
    require_schema()
    with database().session() as session:
        people = session.scalars(
            select(StaffUser).options(selectinload(StaffUser.grants)).order_by(StaffUser.email)
        ).all()
        for person in people:
            state = "active" if person.active else "disabled"
            roles = ",".join(sorted(r.value for r in person.roles)) or "-"
            click.echo(f"{person.email}\t{state}\t{roles}\t{person.name}")


@staff_group.command("disable")
@click.argument("email")
@with_appcontext
def staff_disable(email: str) -> None:
    """Stop an account from logging in; its open sessions end now."""
    require_schema()
    with database().transaction() as session:
        person = find_staff(session, email)
        if person is None:
            fail(f"there is no account for {email}", EXIT_REFUSED)
        disable_staff(session, person, by=None, now=datetime.now(UTC))
    click.echo(f"account {email.strip().lower()} disabled")
