"""``accredit verify`` and ``accredit trust export``: checking documents, online and offline."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives import serialization
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.revocation import CAS, current_crl
from verifier.cli import ReportWriter, check_anchor_files, run, standalone, verify_options
from verifier.report import DocumentVerdict, Report

from ..certificates.answers import answer_for, find_certificate
from ..certificates.models import Certificate
from ..certificates.status_lists import signed_status_list
from ..log import checkpoints
from ..pki import material
from ..settings import Settings
from ..verification.source import instance_context
from .base import EXIT_UNUSABLE_TRUST, database, fail, require_schema, settings


@click.command("verify")
@verify_options
@click.option("--offline", is_flag=True, help="Do not consult the register for status.")
@with_appcontext
def verify_command(
    files: tuple[Path, ...],
    as_json: bool,
    trust_files: tuple[Path, ...],
    offline: bool,
    bundle_file: Path | None,
    registry_url: str | None,
    jobs: int,
    report_dir: Path | None,
) -> None:
    """Is each PDF genuine, unaltered and current?

    Exit 0 every file valid, 1 some file genuine but not current, 2 some file
    not authentic, 3 some file unreadable (2 wins over 3), 4 the trust material
    is unusable.
    """
    anchors = check_anchor_files(trust_files)
    found = settings()
    if bundle_file is not None or registry_url is not None:
        instance = None
        if registry_url is not None and material.exists(found):
            pki = material.load_pki(found)
            root = pki.root.public_bytes(serialization.Encoding.PEM)
            instance = ((root,), pki.qr_jwks(), material.log_key(found, pki).verifier.vkey())
        code = standalone(
            files,
            as_json=as_json,
            anchors=anchors,
            bundle_file=bundle_file,
            registry_url=registry_url,
            jobs=jobs,
            instance=instance,
            reports_to=(
                ReportWriter(report_dir, found.agency_name_en, registry_url) if report_dir else None
            ),
        )
        raise click.exceptions.Exit(code)
    if not material.exists(found):
        fail(
            f"there is no register instance at {found.instance}: verify offline with"
            " --bundle FILE (from `accredit trust export`), or online with --registry URL"
            " --trust ROOT.pem",
            EXIT_UNUSABLE_TRUST,
        )
    if not offline:
        require_schema()
    make_context = partial(instance_context, found, anchors, not offline)
    writer = None
    if report_dir is not None:
        writer = ReportWriter(
            report_dir,
            found.agency_name_en,
            found.public_url,
            material.load_pki(found).qr_signing_jwk(),
            None if offline else partial(register_record, found),
        )
    code = run(list(files), make_context, as_json=as_json, jobs=jobs, reports_to=writer)
    raise click.exceptions.Exit(code)


def register_record(found: Settings, report: Report) -> dict[str, Any] | None:
    """The register's record beside an authentic report (what ``/verify`` shows)."""
    if report.document is not DocumentVerdict.AUTHENTIC or not report.certificate_number:
        return None
    with database().session() as session:
        cert = find_certificate(session, report.certificate_number)
        return answer_for(session, cert, datetime.now(UTC)).as_json() if cert else None


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
