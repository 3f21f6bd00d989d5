"""``/verify`` and ``POST /api/v1/verify``: a customs officer's uploaded PDFs, checked.

Uploads are read into memory (never spooled to disk: see ``web.uploads``),
verified with the instance's trust anchors and the live register, and
forgotten. The page shows the big answer first, the register's own record
beside it, and every check on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from verifier.policy import Limits, verify
from verifier.report import DocumentVerdict, Report, Verdict
from verifier.sources import TrustBundle

from ..certificates.answers import answer_for, find_certificate
from ..pki.material import get_pki, log_key
from ..web import current
from ..web.problems import problem
from .source import RegistryStatusSource, agency_trust

bp = Blueprint("verify", __name__)
MAX_FILES = 20


@dataclass(frozen=True)
class Checked:
    report: Report
    #: The register's record, shown only beside an authentic document.
    register: dict[str, Any] | None

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
    trust = trust_bundle()
    source = RegistryStatusSource(
        current.database().session,
        log_vkey=log_key(current.settings(), get_pki()).verifier.vkey(),
    )
    limits = Limits(max_bytes=current.settings().max_upload_bytes)
    now = datetime.now(UTC)
    results = []
    for upload in files:
        data = upload.read()
        name = (upload.filename or "upload.pdf")[-120:]
        report = verify(data, trust, source, now=now, filename=name, limits=limits)
        register = None
        if report.document is DocumentVerdict.AUTHENTIC and report.certificate_number:
            session = current.session()
            cert = find_certificate(session, report.certificate_number)
            if cert is not None:
                register = answer_for(session, cert, now).as_json()
        results.append(Checked(report, register))
    return results


def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


def _render(results: list[Checked] | None) -> str:
    return render_template(
        "verify.html", results=results, max_files=MAX_FILES, check_labels=CHECK_LABELS
    )


@bp.get("/verify")
def page() -> Any:
    return _render(None)


@bp.post("/verify")
def page_upload() -> Any:
    results = check_uploads()
    if not isinstance(results, list):
        return results
    return _no_store(current_app.make_response(_render(results)))


@bp.post("/api/v1/verify")
def api_upload() -> Any:
    results = check_uploads()
    if not isinstance(results, list):
        return results
    return _no_store(current_app.make_response({"reports": [r.as_json() for r in results]}))
