"""``accredit verify`` and ``accredit trust export``: checking documents, online and offline."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.revocation import CAS, current_crl
from verifier.cli import bundle_context, remote_context, run
from verifier.errors import VerifierError
from verifier.sources import (
    check_registry_url,
    fetch_crls,
    fetch_log_vkey,
    fetch_qr_keys,
    load_bundle,
)

from ..certificates.models import Certificate
from ..certificates.status_lists import signed_status_list
from ..log import checkpoints
from ..pki import material
from ..verification.source import instance_context
from .base import EXIT_UNUSABLE_TRUST, database, fail, require_schema, settings


@click.command("verify")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of reports.")
@click.option(
    "--trust",
    "trust_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Add trust anchors from a PEM file (repeatable).",
)
@click.option("--offline", is_flag=True, help="Do not consult the register for status.")
@click.option(
    "--bundle",
    "bundle_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify offline with a bundle from `accredit trust export`.",
)
@click.option(
    "--registry",
    "registry_url",
    metavar="URL",
    help="Ask this register's JSON API for status (instead of the instance's database).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Verify in this many processes.",
)
@with_appcontext
def verify_command(
    files: tuple[Path, ...],
    as_json: bool,
    trust_files: tuple[Path, ...],
    offline: bool,
    bundle_file: Path | None,
    registry_url: str | None,
    jobs: int,
) -> None:
    """Is each PDF genuine, unaltered and current?

    Exit 0 every file valid, 1 some file genuine but not current, 2 some file
    not authentic, 3 some file unreadable, 4 the trust material is unusable.
    """
    anchors = tuple(p.read_bytes() for p in trust_files)
    for path, pem in zip(trust_files, anchors, strict=True):
        try:
            x509.load_pem_x509_certificates(pem)
        except ValueError:
            fail(f"{path} holds no PEM certificate", EXIT_UNUSABLE_TRUST)
    if bundle_file is not None:
        data = bundle_file.read_bytes()
        load_bundle(data)  # refuse a bad bundle before any work
        make = partial(bundle_context, data, anchors)
        raise click.exceptions.Exit(run(list(files), make, as_json=as_json, jobs=jobs))
    found = settings()
    if registry_url is not None:
        try:
            registry = check_registry_url(registry_url)
            vkey: str | None = None
            if material.exists(found):
                pki = material.load_pki(found)
                root = pki.root.public_bytes(serialization.Encoding.PEM)
                anchors, keys = (root, *anchors), pki.qr_jwks()
                vkey = material.log_key(found, pki).verifier.vkey()
            elif not anchors:
                fail("outside an instance, --registry needs --trust ROOT.pem", EXIT_UNUSABLE_TRUST)
            else:
                keys = fetch_qr_keys(registry)
        except VerifierError as exc:
            fail(str(exc), EXIT_UNUSABLE_TRUST)
        if vkey is None:
            try:
                vkey = fetch_log_vkey(registry)
            except VerifierError as exc:
                click.echo(f"warning: {exc}; the public log is not checked", err=True)
        try:
            crls = fetch_crls(registry)
        except VerifierError as exc:
            # Its status answers will fail the same way: no file can show as valid.
            click.echo(f"warning: {exc}; revocation is read from the files alone", err=True)
            crls = ()
        make = partial(remote_context, registry, anchors, keys, crls, vkey)
        raise click.exceptions.Exit(run(list(files), make, as_json=as_json, jobs=jobs))
    if not offline:
        require_schema()
    make_context = partial(instance_context, found, anchors, not offline)
    raise click.exceptions.Exit(run(list(files), make_context, as_json=as_json, jobs=jobs))


def bundle_log_section(session: Session, vkey: str) -> dict[str, Any] | None:
    """The latest checkpoint, and each logged certificate's leaf with its proof under it.

    Covers the certificates the status list covers (every certificate with a
    status-list index), so ``verify --bundle`` checks the log with no network.
    """
    found = checkpoints.latest(session)
    if found is None:
        return None
    numbers = session.execute(
        select(Certificate.number, Certificate.log_index)
        .where(Certificate.log_index.is_not(None), Certificate.log_index < found.size)
        .order_by(Certificate.log_index)
    ).all()
    return {
        "vkey": vkey,
        "checkpoint": checkpoints.with_cosignatures(session, found),
        "certificates": {
            number: checkpoints.log_proof(session, index, vkey, found).as_json()
            for number, index in numbers
        },
    }


@click.group("trust")
def trust_group() -> None:
    """Trust material for verifiers that work offline."""


@trust_group.command("export")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def trust_export(output: Path) -> None:
    """Write the offline bundle: trust anchors, QR keys, CRLs and the signed status list."""
    require_schema()
    found = settings()
    pki = material.load_pki(found)
    vkey = material.log_key(found, pki).verifier.vkey()
    with database().session() as session:
        data, as_of = signed_status_list(session, pki, found.agency_short, datetime.now(UTC))
        log_section = bundle_log_section(session, vkey)
    bundle = {
        "format": "accredit-trust-bundle/1",
        "issuer": found.agency_name_en,
        "registry": found.public_url,
        "anchors": [pki.root.public_bytes(serialization.Encoding.PEM).decode()],
        "qr_keys": pki.qr_jwks(),
        "crls": [base64.b64encode(current_crl(pki, ca)).decode() for ca in CAS],
        "status_list": base64.b64encode(data).decode(),
        "status_list_as_of": as_of.isoformat(timespec="seconds"),
        "log": log_section,
    }
    tmp = output.with_name(f".{output.name}.partial")
    tmp.write_text(json.dumps(bundle, indent=1))
    tmp.replace(output)
    proofs = len(log_section["certificates"]) if log_section else 0
    click.echo(
        f"wrote {output}: status list as of {as_of:%Y-%m-%d %H:%M} UTC, {len(data)} bytes signed,"
        f" {proofs} log proofs"
    )
