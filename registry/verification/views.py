"""``/verify`` and ``POST /api/v1/verify``: a customs officer's uploaded PDFs, checked.

Uploads are read into memory (never spooled to disk: see ``web.uploads``),
verified with the instance's trust anchors and the live register, and
forgotten. The page shows the big answer first, the register's own record
beside it, and every check on request.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale, lazy_gettext
from flask_babel import gettext as _

from verifier.policy import Limits, verify
from verifier.report import Issuer, Report, Verdict
from verifier.report_pdf import render_report_pdf
from verifier.sources import TrustBundle
from verifier.validation_report import report_document, sign_report

from ..certificates.answers import answer_for, find_certificate
from ..pki.material import get_pki, log_key
from ..web import current
from ..web.negotiation import wants_json
from ..web.problems import problem
from .pool import Busy, pool_for, slot
from .reasons import in_thai, on_screen
from .source import UNREACHABLE, RegistryStatusSource, agency_trust

bp = Blueprint("verify", __name__)
MAX_FILES = 20
#: Seconds a client is asked to wait when every verification slot is taken.
RETRY_AFTER = 5


def data_url(media_type: str, data: bytes) -> str:
    """Bytes as a ``data:`` link: what ``/verify`` offers is never stored on the server."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


@dataclass(frozen=True)
class Checked:
    report: Report
    #: The register's record: beside an authentic document, or beside what the
    #: agency signed when this copy was changed after signing.
    register: dict[str, Any] | None
    #: What the agency signed, when this copy was changed after: ``pdf[:signed_length]``.
    signed_original: bytes | None = None
    #: The signed validation report (JSON) and its printable PDF, to file.
    report_file: bytes | None = None
    report_pdf: bytes | None = None

    @property
    def report_links(self) -> dict[str, str] | None:
        if self.report_file is None or self.report_pdf is None:
            return None
        return {
            "json": data_url("application/json", self.report_file),
            "pdf": data_url("application/pdf", self.report_pdf),
        }

    @property
    def original_link(self) -> str | None:
        """The signed revision as a ``data:`` link: uploads are never stored."""
        if self.signed_original is None:
            return None
        return data_url("application/pdf", self.signed_original)

    @property
    def body(self) -> str | None:
        """The accredited body's name as the register gives it (English, Thai)."""
        if self.register is None:
            return None
        cab = self.register["cab"]
        return str(cab["name_th"] if str(get_locale()) == "th" else cab["name_en"])

    @property
    def tone(self) -> str:
        if self.report.verdict is Verdict.VALID:
            return "valid"
        if self.report.verdict is Verdict.NOT_CURRENT:
            return "warn"
        return "bad"

    def as_json(self) -> dict[str, Any]:
        return {**self.report.as_json(), "register": self.register}


#: What each stable check name means, for people; the detail under it stays technical.
CHECK_LABELS = {
    "parse": lazy_gettext("The file is a readable PDF"),
    "signature_integrity": lazy_gettext("The signature matches the signed content"),
    "signer_trusted": lazy_gettext("The signer is the agency"),
    "signer_role": lazy_gettext("The signer's certificate is for signing documents"),
    "signature_timestamp": lazy_gettext("A trusted timestamp proves when it was signed"),
    "unmodified_after_signing": lazy_gettext("Nothing was changed after signing"),
    "long_term_validation": lazy_gettext("The signature can still be validated today"),
    "registry_binding": lazy_gettext("The register recorded this file"),
    "qr_payload": lazy_gettext("The signed QR payload matches"),
    "status": lazy_gettext("The certificate is current in the register"),
    "public_log": lazy_gettext("The agency's public log recorded this certificate"),
}


def trust_bundle() -> TrustBundle:
    return agency_trust(get_pki())


def check_uploads() -> list[Checked] | Any:
    files = [f for f in request.files.getlist("file") if f.filename or f.content_length]
    if not files:
        return problem(400, "no_file", _("No file was sent"), _("Choose one or more PDF files."))
    if len(files) > MAX_FILES:
        return problem(
            400,
            "too_many_files",
            _("Too many files"),
            _("Send at most %(count)s files at a time.", count=MAX_FILES),
        )
    settings = current.settings()
    limits = Limits(max_bytes=settings.max_upload_bytes)
    now = datetime.now(UTC)
    named = [((upload.filename or "upload.pdf")[-120:], upload.read()) for upload in files]
    if settings.verify_processes > 0:
        try:
            with slot(settings):
                reports = pool_for(current_app.extensions, settings).verify_all(named, now, limits)
        except Busy:
            response = current_app.make_response(
                problem(
                    503,
                    "verifier_busy",
                    _("The verifier is busy"),
                    _("Other files are being checked. Try again in a few seconds."),
                )
            )
            response.headers["Retry-After"] = str(RETRY_AFTER)
            return response
    else:
        trust = trust_bundle()
        source = RegistryStatusSource(
            current.database().session,
            log_vkey=log_key(settings, get_pki()).verifier.vkey(),
        )
        reports = [
            verify(data, trust, source, now=now, filename=name, limits=limits)
            for name, data in named
        ]
    results = []
    jwk = get_pki().qr_signing_jwk()
    for report, (_name, data) in zip(reports, named, strict=True):
        issuer = report.headline.issuer
        register, original = None, None
        if issuer is Issuer.CHANGED_COPY and report.signed_length:
            original = data[: report.signed_length]
        if issuer in (Issuer.AGENCY, Issuer.CHANGED_COPY) and report.certificate_number:
            try:
                session = current.session()
                cert = find_certificate(session, report.certificate_number)
                if cert is not None:
                    register = answer_for(session, cert, now).as_json()
            except UNREACHABLE:
                register = None  # the report already says the status could not be checked
        report_file = sign_report(
            report_document(
                report,
                pdf=data,
                checked_at=now,
                register=register,
                issuer=settings.agency_name_en,
                registry=settings.public_url,
            ),
            jwk,
        )
        results.append(
            Checked(
                report, register, original, report_file, render_report_pdf(report_file, in_thai)
            )
        )
    return results


VERDICT_LABELS = {
    Verdict.VALID: lazy_gettext("Valid"),
    Verdict.NOT_CURRENT: lazy_gettext("Genuine, not current"),
    Verdict.NOT_AUTHENTIC: lazy_gettext("Not authentic"),
    Verdict.UNREADABLE: lazy_gettext("Unreadable"),
}


def reason(checked: Checked) -> str:
    """The first check that did not pass, in the reader's language."""
    report = checked.report
    for found in report.failed + report.undecided:
        if found.name in ("status", "public_log") and report.verdict is Verdict.VALID:
            continue
        label = CHECK_LABELS.get(found.name, found.name)
        if found.outcome.value == "failed":
            return _("Not met: %(check)s", check=label)
        if report.verdict is not Verdict.VALID:
            return _("Not checked: %(check)s", check=label)
    return ""


def batch_csv(results: list[Checked]) -> str:
    """The batch as CSV: one row per file (what the summary table shows)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file", "answer", "document", "status", "certificate", "body", "reason"])
    for r in results:
        writer.writerow(
            [
                r.report.filename,
                r.report.verdict.value,
                r.report.document.value,
                r.report.status.value,
                r.report.certificate_number or "",
                r.body or "",
                reason(r),
            ]
        )
    return out.getvalue()


def batch_links(results: list[Checked]) -> dict[str, str]:
    """The batch's report as ``data:`` links (CSV and JSON): nothing is kept on the server."""
    as_json = json.dumps({"reports": [r.as_json() for r in results]}, ensure_ascii=False, indent=1)
    return {
        "csv": data_url("text/csv;charset=utf-8", batch_csv(results).encode()),
        "json": data_url("application/json", as_json.encode()),
    }


def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


def _render(results: list[Checked] | None) -> str:
    counts = Counter(r.report.verdict for r in results or [])
    return render_template(
        "verify.html",
        results=results,
        max_files=MAX_FILES,
        check_labels=CHECK_LABELS,
        check_detail=on_screen,
        verdict_labels=VERDICT_LABELS,
        counts=[(VERDICT_LABELS[v], v.value, counts[v]) for v in Verdict if counts[v]],
        reason=reason,
        downloads=batch_links(results) if results else None,
    )


def offer() -> dict[str, Any]:
    """What ``/verify`` offers, as data: the page's JSON twin and ``GET /api/v1/verify``.

    A program learns here where to send PDFs, under which field, and within
    which limits, without reading the page.
    """
    settings = current.settings()
    return {
        "verify": {
            "page": "/verify",
            "upload": {
                "url": "/api/v1/verify",
                "method": "POST",
                "encoding": "multipart/form-data",
                "field": "file",
                "accepts": ["application/pdf"],
            },
            "page_upload": {"url": "/verify", "method": "POST", "field": "file"},
            "limits": {
                "max_files": MAX_FILES,
                "max_request_bytes": settings.max_upload_bytes,
                "rate_limit": settings.upload_rate_limit,
            },
            "stored": False,
            "answers": [v.value for v in Verdict],
            "api_docs": "/api",
            "openapi": "/api/v1/openapi.json",
        }
    }


@bp.get("/verify")
def page() -> Any:
    if wants_json():
        return offer()
    return _render(None)


@bp.post("/verify")
def page_upload() -> Any:
    results = check_uploads()
    if not isinstance(results, list):
        return results
    if wants_json():  # the page's twin answers as the API does
        return _no_store(current_app.make_response({"reports": [r.as_json() for r in results]}))
    return _no_store(current_app.make_response(_render(results)))


@bp.post("/api/v1/verify")
def api_upload() -> Any:
    results = check_uploads()
    if not isinstance(results, list):
        return results
    return _no_store(current_app.make_response({"reports": [r.as_json() for r in results]}))
