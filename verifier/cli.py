"""Verifying many files from the command line: one line per file, exit codes, JSON.

This is the logic behind ``accredit verify``; it needs no database, so an
offline install can run it. Exit codes: 0 every file valid, 1 some file is
authentic but not current, 3 some file is unreadable, 2 some file is not
authentic (2 wins over 3, see ``SEVERITY``), 4 the trust material is unusable.

Importing this module configures nothing: an entry point calls
``quiet_library_logs()`` and ``verifier.speedups.enable(...)`` itself.
"""

from __future__ import annotations

import gc
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from . import speedups
from .policy import verify
from .report import Report, Verdict
from .sources import StatusSource, TrustBundle

EXIT_CODES = {
    Verdict.VALID: 0,
    Verdict.NOT_CURRENT: 1,
    Verdict.NOT_AUTHENTIC: 2,
    Verdict.UNREADABLE: 3,
}
#: Which answer a batch exits with: a file that is not authentic outweighs one
#: that could not be read (someone may be passing off a forgery among noise).
SEVERITY = (Verdict.VALID, Verdict.NOT_CURRENT, Verdict.UNREADABLE, Verdict.NOT_AUTHENTIC)
Context = Callable[[], tuple[TrustBundle, StatusSource | None]]
_worker_context: tuple[TrustBundle, StatusSource | None] | None = None
#: pyHanko logs every problem it meets in a document (warnings, tracebacks);
#: the report already says what is wrong, in its own words.
LIBRARY_LOGGERS = ("pyhanko", "pyhanko_certvalidator")


def quiet_library_logs() -> None:
    """Keep pyHanko's own log records (below CRITICAL) out of the output.

    For entry points that print reports (``accredit verify``, the web app);
    never called at import. Idempotent.
    """
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _library_log_levels() -> dict[str, int]:
    return {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}


def bundle_context(
    bundle: bytes, extra_anchors: tuple[bytes, ...] = ()
) -> tuple[TrustBundle, StatusSource | None]:
    """Trust and status from an offline bundle (and any extra PEM anchors)."""
    from .sources import load_bundle

    trust, status = load_bundle(bundle)
    if extra_anchors:
        trust = trust.adding(TrustBundle.from_pem(extra_anchors))
    return trust, status


def remote_context(
    registry: str,
    anchors: tuple[bytes, ...],
    qr_keys: Mapping[str, Any],
    crls: tuple[bytes, ...] = (),
    log_vkey: str | None = None,
) -> tuple[TrustBundle, StatusSource | None]:
    """Trust from local anchors (and the register's CRLs), status from its JSON API.

    With ``log_vkey``, each answer is also proven against the register's public log.
    """
    from .sources import RemoteStatusSource

    return TrustBundle.from_pem(anchors, qr_keys, crls), RemoteStatusSource(
        registry, log_vkey=log_vkey
    )


def _init_worker(make_context: Context, with_speedups: bool, levels: dict[str, int]) -> None:
    global _worker_context
    # A forked worker inherits the parent's state; a spawned one starts bare.
    speedups.enable(with_speedups)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    _worker_context = make_context()


def _verify_path(path: str) -> Report:
    assert _worker_context is not None
    trust, status = _worker_context
    return verify_path(Path(path), trust, status)


def verify_path(path: Path, trust: TrustBundle, status: StatusSource | None) -> Report:
    try:
        data = path.read_bytes()
    except OSError as exc:
        from .report import Check, Outcome

        return Report(
            (
                Check(
                    "parse",
                    Outcome.FAILED,
                    f"cannot read the file: {exc.strerror}",
                    "unreadable_file",
                ),
            ),
            filename=str(path),
        )
    return verify(data, trust, status, filename=str(path))


def line(report: Report) -> str:
    """One line per file: the answer, then the reasons."""
    name = report.filename or "-"
    number = f" {report.certificate_number}" if report.certificate_number else ""
    reasons = "; ".join(
        [f"{c.name}: {c.detail}" for c in report.failed]
        + [f"not checked: {c.detail}" for c in report.undecided]
    )
    if report.status_source == "offline" and report.status_as_of:
        number += f" (status as of {report.status_as_of:%Y-%m-%d %H:%M} UTC)"
    head = {
        Verdict.VALID: "VALID",
        Verdict.NOT_CURRENT: (
            "GENUINE, PARTIALLY SUSPENDED"
            if report.status.value == "partially_suspended"
            else f"GENUINE, NOT CURRENT ({report.status.value})"
        ),
        Verdict.NOT_AUTHENTIC: f"NOT AUTHENTIC ({report.document.value})",
        Verdict.UNREADABLE: "UNREADABLE",
    }[report.verdict]
    return f"{name}: {head}{number}" + (f" - {reasons}" if reasons else "")


SUMMARY_LABELS = {
    Verdict.VALID: "valid",
    Verdict.NOT_CURRENT: "genuine, not current",
    Verdict.NOT_AUTHENTIC: "not authentic",
    Verdict.UNREADABLE: "unreadable",
}


def summary_table(reports: Sequence[Report]) -> str:
    """Files per answer, then the checks that failed most (what to look at first)."""
    verdicts = Counter(r.verdict for r in reports)
    failures = Counter(c.name for r in reports for c in r.failed)
    rows = [(SUMMARY_LABELS[v], verdicts[v]) for v in Verdict]
    rows.append(("total", len(reports)))
    lines = ["", f"{'answer':<24}{'files':>7}"] + [f"{label:<24}{n:>7}" for label, n in rows]
    if failures:
        lines += ["", f"{'failed check':<24}{'files':>7}"]
        lines += [f"{name:<24}{n:>7}" for name, n in failures.most_common()]
    return "\n".join(lines)


@dataclass(frozen=True)
class ReportWriter:
    """``--report DIR``: a validation report (JSON and PDF) per file, signed when a key is given.

    ``register_of`` gives the register's record for a report (inside an
    instance); with no agency key (``jwk`` None) the reports say they are unsigned.
    """

    folder: Path
    issuer: str
    registry: str | None = None
    jwk: Mapping[str, Any] | None = None
    register_of: Callable[[Report], Mapping[str, Any] | None] | None = None

    def write(self, reports: Sequence[Report]) -> list[Path]:
        from datetime import UTC, datetime

        from .report_pdf import render_report_pdf
        from .validation_report import report_document, sign_report

        self.folder.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        written: list[Path] = []
        stems: Counter[str] = Counter()
        for report in reports:
            source = Path(report.filename or "file.pdf")
            try:
                data = source.read_bytes()
            except OSError:
                data = b""
            register = self.register_of(report) if self.register_of else None
            document = report_document(
                report,
                pdf=data,
                checked_at=now,
                register=register,
                issuer=self.issuer,
                registry=self.registry,
            )
            report_file = sign_report(document, self.jwk)
            stems[source.stem] += 1
            stem = source.stem + (f"-{stems[source.stem]}" if stems[source.stem] > 1 else "")
            for suffix, content in (
                (".report.json", report_file),
                (".report.pdf", render_report_pdf(report_file)),
            ):
                target = self.folder / f"{stem}{suffix}"
                partial = target.with_name(f".{target.name}.partial")
                partial.write_bytes(content)
                partial.replace(target)
                written.append(target)
        return written


def run(
    paths: Sequence[Path],
    make_context: Context,
    *,
    as_json: bool,
    jobs: int,
    reports_to: ReportWriter | None = None,
) -> int:
    """Verify ``paths`` and print the results; returns the exit code."""
    reports: list[Report] = []
    show_progress = len(paths) > 1 and not as_json
    # What exists now (the libraries, the trust material) lives as long as the
    # run: keep the collector from rescanning it after every few documents, and
    # from writing to (so copying) the memory that forked workers share.
    gc.freeze()
    if jobs > 1 and len(paths) > 1:
        with ProcessPoolExecutor(
            jobs,
            initializer=_init_worker,
            initargs=(make_context, speedups.active(), _library_log_levels()),
        ) as pool:
            results = pool.map(_verify_path, [str(p) for p in paths], chunksize=4)
            with click.progressbar(
                results,
                length=len(paths),
                label="verifying",
                file=None if show_progress else open("/dev/null", "w"),
            ) as bar:
                reports.extend(bar)
    else:
        trust, status = make_context()
        with click.progressbar(
            paths, label="verifying", file=None if show_progress else open("/dev/null", "w")
        ) as bar:
            reports.extend(verify_path(p, trust, status) for p in bar)
    if reports_to is not None:
        written = reports_to.write(reports)
        click.echo(f"validation reports: {len(written)} files in {reports_to.folder}", err=True)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in reports], ensure_ascii=False, indent=1))
    else:
        for report in reports:
            click.echo(line(report))
        if len(reports) > 1:
            click.echo(summary_table(reports))
    worst = max((r.verdict for r in reports), key=SEVERITY.index, default=Verdict.VALID)
    return EXIT_CODES[worst]


EXIT_UNUSABLE_TRUST = 4


def _refuse(message: str) -> None:
    click.echo(f"accredit: error: {message}", err=True)
    raise click.exceptions.Exit(EXIT_UNUSABLE_TRUST)


def check_anchor_files(paths: Sequence[Path]) -> tuple[bytes, ...]:
    """The PEM anchors of ``--trust`` files, refusing a file that holds none (exit 4)."""
    from cryptography import x509

    anchors = tuple(p.read_bytes() for p in paths)
    for path, pem in zip(paths, anchors, strict=True):
        try:
            x509.load_pem_x509_certificates(pem)
        except ValueError:
            _refuse(f"{path} holds no PEM certificate")
    return anchors


def standalone(
    files: Sequence[Path],
    *,
    as_json: bool,
    anchors: tuple[bytes, ...],
    bundle_file: Path | None,
    registry_url: str | None,
    jobs: int,
    instance: tuple[tuple[bytes, ...], Mapping[str, Any], str] | None = None,
    reports_to: ReportWriter | None = None,
) -> int:
    """``accredit verify --bundle FILE`` or ``--registry URL``: no app, no database, no file.

    This path imports no Flask and writes nothing: a customs officer's laptop
    needs only the verifier and the bundle (or the register's address).
    ``instance`` is an instance's own trust (anchors, QR keys, log key), when
    the command runs inside one.
    """
    from functools import partial

    from .errors import VerifierError
    from .sources import (
        check_registry_url,
        fetch_crls,
        fetch_log_vkey,
        fetch_qr_keys,
        load_bundle,
    )

    if bundle_file is not None:
        data = bundle_file.read_bytes()
        try:
            load_bundle(data)  # refuse a bad bundle before any work
        except VerifierError as exc:
            _refuse(str(exc))
        make = partial(bundle_context, data, anchors)
        return run(list(files), make, as_json=as_json, jobs=jobs, reports_to=reports_to)
    assert registry_url is not None
    vkey: str | None = None
    try:
        registry = check_registry_url(registry_url)
        if instance is not None:
            own, keys, vkey = instance
            anchors = (*own, *anchors)
        elif not anchors:
            _refuse(
                "--registry needs the agency's root certificate: add --trust ROOT.pem"
                " (from the register's /pki/ page), or verify offline with --bundle FILE"
            )
        else:
            keys = fetch_qr_keys(registry)
    except VerifierError as exc:
        _refuse(str(exc))
    try:
        crls = fetch_crls(registry)
    except VerifierError as exc:
        # Its status answers will fail the same way: no file can show as valid.
        click.echo(f"warning: {exc}; revocation is read from the files alone", err=True)
        crls = ()
    if vkey is None:
        try:
            vkey = fetch_log_vkey(registry)
        except VerifierError as exc:
            click.echo(f"warning: {exc}; the public log is not checked", err=True)
    make = partial(remote_context, registry, anchors, keys, crls, vkey)
    return run(list(files), make, as_json=as_json, jobs=jobs, reports_to=reports_to)


def verify_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``accredit verify`` has everywhere: inside an instance or with none."""
    for option in reversed(
        [
            click.argument(
                "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
            ),
            click.option("--json", "as_json", is_flag=True, help="Print a JSON array of reports."),
            click.option(
                "--trust",
                "trust_files",
                multiple=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="Add trust anchors from a PEM file (repeatable).",
            ),
            click.option(
                "--bundle",
                "bundle_file",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="Verify offline with a bundle from `accredit trust export`.",
            ),
            click.option(
                "--registry",
                "registry_url",
                metavar="URL",
                help="Ask this register's JSON API for status (not an instance's database).",
            ),
            click.option(
                "--report",
                "report_dir",
                type=click.Path(file_okay=False, path_type=Path),
                help="Also write a validation report (JSON and PDF) per file into this folder.",
            ),
            click.option(
                "--jobs",
                type=click.IntRange(1, 64),
                default=1,
                show_default=True,
                help="Verify in this many processes.",
            ),
        ]
    ):
        command = option(command)
    return command


@click.command("verify")
@verify_options
def standalone_command(
    files: tuple[Path, ...],
    as_json: bool,
    trust_files: tuple[Path, ...],
    bundle_file: Path | None,
    registry_url: str | None,
    jobs: int,
    report_dir: Path | None,
) -> None:
    """Is each PDF genuine, unaltered and current? (with --bundle or --registry, no instance)

    Exit 0 every file valid, 1 some file genuine but not current, 2 some file
    not authentic, 3 some file unreadable (2 wins over 3), 4 the trust
    material is unusable.
    """
    if bundle_file is None and registry_url is None:
        _refuse("verify with --bundle FILE (offline) or --registry URL (online)")
    code = standalone(
        files,
        as_json=as_json,
        anchors=check_anchor_files(trust_files),
        bundle_file=bundle_file,
        registry_url=registry_url,
        jobs=jobs,
        reports_to=(
            ReportWriter(report_dir, "accredit verify", registry_url) if report_dir else None
        ),
    )
    raise click.exceptions.Exit(code)
