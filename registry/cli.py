"""The ``accredit`` command. Its options and output formats are a contract."""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from cryptography import x509
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from keys.config import PkiConfigError
from keys.errors import BadPassphrase, CorruptKeyFile, PkiError, PkiMissing
from verifier.errors import VerifierError

from . import agency, create_app, db, demo, freshness
from .models import Accreditation, Cab
from .standings import standings
from .status import PUBLIC_STATUSES, local_date

#: Exit codes: 1 refused (the request cannot be done), 2 configuration or database.
EXIT_REFUSED = 1
EXIT_ENVIRONMENT = 2
#: `accredit verify` uses 0-3 for verdicts; 4 means it could not verify at all.
EXIT_UNUSABLE_TRUST = 4


class AccreditGroup(FlaskGroup):
    """Turns environment problems into one readable line and a distinct exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except db.SchemaTooNew as exc:
            fail(str(exc), EXIT_REFUSED)
        except VerifierError as exc:
            fail(str(exc), EXIT_UNUSABLE_TRUST)
        except (PkiMissing, BadPassphrase, CorruptKeyFile, PkiConfigError) as exc:
            fail(str(exc), EXIT_ENVIRONMENT)
        except PkiError as exc:
            fail(str(exc), EXIT_REFUSED)
        except db.DatabaseError as exc:
            fail(str(exc), EXIT_ENVIRONMENT)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            fail(f"database error: {reason}", EXIT_ENVIRONMENT)


def fail(message: str, code: int) -> None:
    click.echo(f"accredit: error: {message}", err=True)
    raise click.exceptions.Exit(code)


def _make_app() -> Flask:
    try:
        return create_app()
    except db.DatabaseError as exc:
        fail(str(exc), EXIT_ENVIRONMENT)
        raise  # unreachable


cli = AccreditGroup(
    create_app=_make_app,
    add_default_commands=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="The accreditation register: set up, inspect and serve it.",
)
cli.add_command(shell_command)
cli.add_command(routes_command)


def main() -> None:
    cli.main(prog_name="accredit")


@cli.command("init")
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
    instance = Path(current_app.config["INSTANCE"])
    instance.mkdir(parents=True, exist_ok=True)
    engine = db.get_engine()
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
    if (agency.pki_folder(current_app.config) / "state.json").exists():
        agency.warn_if_unencrypted(current_app.config)
        agency.load_pki(current_app.config).check_keys()
        click.echo(f"agency PKI in {agency.pki_folder(current_app.config)}")
    else:
        pki = agency.create_pki(current_app.config)
        click.echo(f"agency PKI created in {pki.folder} ({pki.config.algorithm})")
    if demo_count:
        day = anchor.date() if anchor else local_date(datetime.now(UTC))
        started = datetime.now(UTC)
        with engine.begin() as conn:
            added = demo.load(conn, demo_count, day)
        seconds = (datetime.now(UTC) - started).total_seconds()
        click.echo(f"demo data: {added} bodies added ({demo_count} requested) in {seconds:.1f} s")
    started = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        indexed = freshness.ensure_indexed(session, started)
    if indexed:
        seconds = (datetime.now(UTC) - started).total_seconds()
        click.echo(f"search index: {indexed} accreditations indexed in {seconds:.1f} s")
    if issue_count:
        _issue_demo_certificates(issue_count)


def _issue_demo_certificates(count: int) -> None:
    """Issue revision 1 for the first accreditations that can have one, up to ``count``."""
    from .issuance import IssuanceRefused, find_accreditation, issue
    from .models import Certificate

    engine = db.get_engine()
    with Session(engine) as session:
        have = session.scalar(select(func.count(func.distinct(Certificate.accreditation_id))))
        numbers = session.scalars(
            select(Accreditation.number)
            .where(~Accreditation.certificates.any())
            .order_by(Accreditation.id)
        ).all()
    signer = agency.get_document_signer()
    issued = []
    for number in numbers:
        if (have or 0) + len(issued) >= count:
            break
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                made = issue(
                    session, find_accreditation(session, number), signer, current_app.config
                )
        except IssuanceRefused:
            continue
        issued.append(made.certificate)
    for cert in issued[:3]:
        click.echo(f"demo certificate {cert.number}: {cert.qr_url}")
    click.echo(f"demo certificates: {len(issued)} issued, {(have or 0) + len(issued)} in all")


def _require_schema() -> None:
    engine = db.get_engine()
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if path and path != ":memory:" and not Path(path).exists():
        fail(f"there is no database at {path}; run `accredit init` first", EXIT_ENVIRONMENT)
    db.check_connection(engine)
    current, head = db.current_revision(engine), db.head_revision(engine)
    if current != head:
        fail(
            f"the database is at revision {current or 'empty'}, not {head}; "
            "run `accredit init` first",
            EXIT_ENVIRONMENT,
        )


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


@cli.command("list")
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
    _require_schema()
    with Session(db.get_engine()) as session:
        rows = accreditation_rows(session, datetime.now(UTC))
    if status:
        rows = [r for r in rows if r["status"] == status]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        click.echo(f"{row['number']}\t{row['status']}")


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--dev", is_flag=True, help="Use Flask's development server with reloading.")
@with_appcontext
def run_command(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the register (gunicorn when installed, Flask's server otherwise)."""
    _require_schema()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which(
        "gunicorn"
    )
    if dev or gunicorn is None:
        click.echo(f"serving on http://{host}:{port} with Flask's development server")
        current_app.run(host=host, port=port, debug=dev, use_reloader=dev)
        return
    click.echo(f"serving on http://{host}:{port} with gunicorn, {workers} workers")
    args = [
        gunicorn,
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "registry:create_app()",
    ]
    os.execv(gunicorn, args)


@cli.group("keys")
def keys_group() -> None:
    """The agency PKI: create it, print the root, rotate and revoke signing keys."""


@keys_group.command("init")
@with_appcontext
def keys_init() -> None:
    """Create the agency PKI in <instance>/pki (refuses to overwrite one)."""
    pki = agency.create_pki(current_app.config)
    click.echo(f"agency PKI created in {pki.folder}")
    click.echo(f"root CA: {pki.root.subject.rfc4514_string()}")
    click.echo(f"document signing certificate: serial {pki.signing_cert.serial_number:x}")


@keys_group.command("root")
@with_appcontext
def keys_root() -> None:
    """Print the root CA certificate (PEM), to configure trust in other tools."""
    from cryptography.hazmat.primitives import serialization

    pki = agency.load_pki(current_app.config)
    click.echo(pki.root.public_bytes(serialization.Encoding.PEM).decode(), nl=False)


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Issue a new document-signing certificate; older documents keep verifying."""
    agency.warn_if_unencrypted(current_app.config)
    pki = agency.load_pki(current_app.config)
    old = pki.current_signer
    cert = pki.issue_signer(datetime.now(UTC))
    agency.forget(current_app._get_current_object())  # type: ignore[attr-defined]
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
    pki = agency.load_pki(current_app.config)
    revoked = pki.revoke(number, reason, datetime.now(UTC))
    agency.forget(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"revoked {number:x} at {revoked.at:%Y-%m-%d %H:%M:%S} UTC ({reason})")


@cli.command("sign")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def sign_command(source: Path, output: Path) -> None:
    """Sign any PDF as PAdES B-LTA with the agency's current signing key."""
    from keys.signing import sign_pdf

    data = source.read_bytes()
    if not data.startswith(b"%PDF-"):
        fail(f"{source} is not a PDF file", EXIT_REFUSED)
    agency.warn_if_unencrypted(current_app.config)
    signed = sign_pdf(data, agency.get_document_signer())
    tmp = output.with_name(f".{output.name}.partial")
    tmp.write_bytes(signed)
    tmp.replace(output)
    click.echo(f"signed {source} -> {output} ({len(signed)} bytes)")


@cli.command("issue")
@click.argument("accreditation_no")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the signed PDF here.",
)
@with_appcontext
def issue_command(accreditation_no: str, output: Path | None) -> None:
    """Render, sign (PAdES B-LTA) and record the next certificate revision."""
    from .certificate_pdf import MissingGlyphs
    from .issuance import IssuanceRefused, find_accreditation, issue

    _require_schema()
    signer = agency.get_document_signer()
    try:
        with Session(db.get_engine(), expire_on_commit=False) as session, session.begin():
            acc = find_accreditation(session, accreditation_no)
            issued = issue(session, acc, signer, current_app.config)
    except (IssuanceRefused, MissingGlyphs) as exc:
        fail(str(exc), EXIT_REFUSED)
    cert = issued.certificate
    if output:
        tmp = output.with_name(f".{output.name}.partial")
        tmp.write_bytes(issued.pdf)
        tmp.replace(output)
    click.echo(f"certificate: {cert.number}")
    click.echo(f"revision:    {cert.revision}")
    click.echo(f"sha256:      {cert.sha256}")
    click.echo(f"qr url:      {cert.qr_url}")
    if output:
        click.echo(f"written to:  {output} ({len(issued.pdf)} bytes)")


@cli.group("documents")
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
    import hashlib
    from datetime import timedelta

    from keys.signing import refresh_lta, timestamp_chain_end

    from .models import Blob, Certificate

    _require_schema()
    limit = before.replace(tzinfo=UTC) if before else datetime.now(UTC) + timedelta(days=730)
    signer = agency.get_document_signer()
    known = [signer.pki.root, signer.pki.issuing, signer.pki.tsa]
    refreshed = checked = 0
    engine = db.get_engine()
    with Session(engine) as session:
        ids = session.scalars(select(Certificate.id).order_by(Certificate.id)).all()
    for cert_id in ids:
        with Session(engine) as session, session.begin():
            cert = session.get(Certificate, cert_id)
            assert cert is not None
            blob = session.get(Blob, cert.current_sha256)
            assert blob is not None
            checked += 1
            end = timestamp_chain_end(blob.data, known)
            if end is not None and end >= limit:
                continue
            data = refresh_lta(blob.data, signer)
            digest = hashlib.sha256(data).hexdigest()
            session.add(Blob(sha256=digest, size=len(data), data=data))
            cert.served_sha256 = digest
            refreshed += 1
            click.echo(
                f"{cert.number}: timestamp chain ended {end:%Y-%m-%d}; refreshed -> {digest[:16]}"
            )
    click.echo(f"{refreshed} of {checked} certificates refreshed (limit {limit:%Y-%m-%d})")


@cli.command("verify")
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
    from functools import partial

    from verifier.cli import run

    from .verification import instance_context

    anchors = tuple(p.read_bytes() for p in trust_files)
    for path, pem in zip(trust_files, anchors, strict=True):
        try:
            x509.load_pem_x509_certificates(pem)
        except ValueError:
            fail(f"{path} holds no PEM certificate", EXIT_UNUSABLE_TRUST)
    if bundle_file is not None:
        from verifier.sources import load_bundle

        load_bundle(bundle_file.read_bytes())  # refuse a bad bundle before any work
        from verifier.cli import bundle_context

        make = partial(bundle_context, bundle_file.read_bytes(), anchors)
        raise click.exceptions.Exit(run(list(files), make, as_json=as_json, jobs=jobs))
    if registry_url is not None:
        from cryptography.hazmat.primitives import serialization

        from verifier.cli import remote_context
        from verifier.sources import check_registry_url, fetch_crls, fetch_qr_keys

        try:
            registry = check_registry_url(registry_url)
            if (agency.pki_folder(current_app.config) / "state.json").exists():
                pki = agency.load_pki(current_app.config)
                root = pki.root.public_bytes(serialization.Encoding.PEM)
                anchors, keys = (root, *anchors), pki.qr_jwks()
            elif not anchors:
                fail("outside an instance, --registry needs --trust ROOT.pem", EXIT_UNUSABLE_TRUST)
            else:
                keys = fetch_qr_keys(registry)
        except VerifierError as exc:
            fail(str(exc), EXIT_UNUSABLE_TRUST)
        try:
            crls = fetch_crls(registry)
        except VerifierError as exc:
            # Its status answers will fail the same way: no file can show as valid.
            click.echo(f"warning: {exc}; revocation is read from the files alone", err=True)
            crls = ()
        make = partial(remote_context, registry, anchors, keys, crls)
        raise click.exceptions.Exit(run(list(files), make, as_json=as_json, jobs=jobs))
    if not offline:
        _require_schema()
    config = {
        k: current_app.config[k]
        for k in ("INSTANCE", "DATABASE_URL", "PUBLIC_URL", "AGENCY_NAME_EN", "KEY_PASSPHRASE")
    }
    make_context = partial(instance_context, config, anchors, not offline)
    raise click.exceptions.Exit(run(list(files), make_context, as_json=as_json, jobs=jobs))


@cli.group("trust")
def trust_group() -> None:
    """Trust material for verifiers that work offline."""


@trust_group.command("export")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def trust_export(output: Path) -> None:
    """Write the offline bundle: trust anchors, QR keys, CRLs and the signed status list."""
    import base64

    from cryptography.hazmat.primitives import serialization

    from keys.revocation import CAS, current_crl

    from .status_lists import signed_status_list

    _require_schema()
    pki = agency.load_pki(current_app.config)
    with Session(db.get_engine()) as session:
        data, as_of = signed_status_list(
            session, pki, current_app.config["AGENCY_SHORT"], datetime.now(UTC)
        )
    bundle = {
        "format": "accredit-trust-bundle/1",
        "issuer": current_app.config["AGENCY_NAME_EN"],
        "registry": current_app.config["PUBLIC_URL"],
        "anchors": [pki.root.public_bytes(serialization.Encoding.PEM).decode()],
        "qr_keys": pki.qr_jwks(),
        "crls": [base64.b64encode(current_crl(pki, ca)).decode() for ca in CAS],
        "status_list": base64.b64encode(data).decode(),
        "status_list_as_of": as_of.isoformat(timespec="seconds"),
        "checkpoint": None,
    }
    tmp = output.with_name(f".{output.name}.partial")
    tmp.write_text(json.dumps(bundle, indent=1))
    tmp.replace(output)
    click.echo(
        f"wrote {output}: status list as of {as_of:%Y-%m-%d %H:%M} UTC, {len(data)} bytes signed"
    )
