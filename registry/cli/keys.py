"""``accredit keys``: the agency PKI (its keys sign only inside issuance)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from cryptography.hazmat.primitives import serialization
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from keys.pki import sha256_fingerprint

from .. import changes
from ..changes import BOOTSTRAP, DEVELOPMENT, Change
from ..log import leaves
from ..pki import material
from .base import (
    EXIT_REFUSED,
    database,
    development_only,
    fail,
    publish_log,
    require_schema,
    settings,
)


def _log_key(
    session: Session, kind: str, serial: int, fingerprint: str, reason: str | None, now: datetime
) -> None:
    """A rotation or revocation is a public fact: it goes to the log with its audit entry."""
    changes.record(
        session,
        Change(
            action=kind,
            target_type="key",
            target_id=f"{serial:x}",
            actor=DEVELOPMENT if not settings().production else BOOTSTRAP,
            public=False,
            detail={"reason": reason} if reason else {},
            leaf=leaves.key_changed(
                kind=kind, serial=f"{serial:x}", fingerprint=fingerprint, reason=reason
            ),
        ),
        now,
    )


@click.group("keys")
def keys_group() -> None:
    """The agency PKI: create it, print the root, rotate and revoke signing keys."""


@keys_group.command("init")
@with_appcontext
def keys_init() -> None:
    """Create the agency PKI in <instance>/pki (refuses to overwrite one)."""
    pki = material.create_pki(settings())
    click.echo(f"agency PKI created in {pki.folder}")
    click.echo(f"root CA: {pki.root.subject.rfc4514_string()}")
    click.echo(f"document signing certificate: serial {pki.signing_cert.serial_number:x}")


@keys_group.command("root")
@with_appcontext
def keys_root() -> None:
    """Print the root CA certificate (PEM), to configure trust in other tools."""
    pki = material.load_pki(settings())
    click.echo(pki.root.public_bytes(serialization.Encoding.PEM).decode(), nl=False)


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Issue a new document-signing certificate; older documents keep verifying."""
    development_only("accredit keys rotate")
    require_schema()
    material.warn_if_unencrypted(settings())
    pki = material.load_pki(settings())
    old = pki.current_signer
    now = datetime.now(UTC)
    with database().transaction() as session:
        cert = pki.issue_signer(now)
        _log_key(session, "key.rotated", cert.serial_number, sha256_fingerprint(cert), None, now)
    material.forget(current_app._get_current_object())  # type: ignore[attr-defined]
    publish_log()
    click.echo(
        f"new document signing certificate: serial {cert.serial_number:x} "
        f"(replaces {old:x}), valid until {cert.not_valid_after_utc:%Y-%m-%d}"
    )


@keys_group.command("revoke")
@click.argument("serial")
@click.option(
    "--reason",
    default="key_compromise",
    show_default=True,
    help="An RFC 5280 reason: key_compromise, superseded, cessation_of_operation, ...",
)
@with_appcontext
def keys_revoke(serial: str, reason: str) -> None:
    """Revoke a certificate by its hexadecimal serial (CRL and OCSP)."""
    try:
        number = int(serial.lower().removeprefix("0x"), 16)
    except ValueError:
        fail(f"{serial!r} is not a hexadecimal serial number", EXIT_REFUSED)
    require_schema()
    pki = material.load_pki(settings())
    now = datetime.now(UTC)
    with database().transaction() as session:
        revoked = pki.revoke(number, reason, now)
        cert = pki.signers.get(number)
        fingerprint = sha256_fingerprint(cert) if cert is not None else ""
        _log_key(session, "key.revoked", number, fingerprint, reason, now)
    material.forget(current_app._get_current_object())  # type: ignore[attr-defined]
    publish_log()
    click.echo(f"revoked {number:x} at {revoked.at:%Y-%m-%d %H:%M:%S} UTC ({reason})")
