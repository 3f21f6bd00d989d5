"""Every check's outcome as a sentence in the reader's language.

The verifier's details are English and technical (a signer's subject, a
revision number): right for the API and the command line, but on the page a
Thai reader gets the sentence for the reason code. Codes come from
``verifier.rules.CODES``; a test holds this table to it.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, get_locale, lazy_gettext

from verifier.report import Check, Outcome

#: What a passed check means, by check name.
PASSED = {
    "parse": lazy_gettext("The file is a PDF that can be read."),
    "signature_integrity": lazy_gettext("The signature matches the signed content."),
    "signer_trusted": lazy_gettext("The signer chains to the agency's trusted root."),
    "signer_role": lazy_gettext("The signing certificate is the agency's document-signing one."),
    "signature_timestamp": lazy_gettext("A trusted agency timestamp proves when it was signed."),
    "unmodified_after_signing": lazy_gettext(
        "Nothing was changed after signing, beyond long-term validation data."
    ),
    "long_term_validation": lazy_gettext("The signature still validates today."),
    "registry_binding": lazy_gettext("The register recorded this very file."),
    "qr_payload": lazy_gettext("The signed QR payload names this certificate."),
    "status": lazy_gettext("The register says the certificate is current."),
    "public_log": lazy_gettext("The agency's public log recorded this file when it was issued."),
}

#: What a failed or undecided check means, by reason code.
REASONS = {
    "error": lazy_gettext("Could not be checked: the file breaks the PDF rules here."),
    "time_budget": lazy_gettext("Not checked: the time allowed for this file ran out."),
    # parse
    "too_large": lazy_gettext("The file is too large to check."),
    "not_pdf": lazy_gettext("The file is not a PDF."),
    "malformed": lazy_gettext("The PDF is damaged and cannot be read."),
    "encrypted": lazy_gettext("The PDF is encrypted; agency certificates never are."),
    "too_many_revisions": lazy_gettext("The PDF has been saved over too many times."),
    "too_many_objects": lazy_gettext("The PDF holds too many objects to check."),
    "too_deeply_nested": lazy_gettext("The PDF's structure is nested too deeply to check."),
    # signature_integrity
    "unsigned": lazy_gettext("The PDF is not signed."),
    "extra_signature": lazy_gettext(
        "The PDF carries more than one signature; certificates have one."
    ),
    "not_validated": lazy_gettext("The signature could not be validated."),
    "digest_mismatch": lazy_gettext("The content was changed after it was signed."),
    "bad_signature": lazy_gettext("The signature value does not verify."),
    "altered_container": lazy_gettext("The signature's container was altered."),
    "altered_certificate": lazy_gettext("A certificate inside the signature was altered."),
    # signer_trusted, signer_role
    "revoked": lazy_gettext("The signing certificate was revoked before this was signed."),
    "untrusted_signer": lazy_gettext("Not signed by the agency: the signer is someone else."),
    "wrong_role": lazy_gettext("The signing certificate is not one for signing documents."),
    # signature_timestamp
    "no_timestamp": lazy_gettext("The signature carries no timestamp."),
    "bad_timestamp": lazy_gettext("The signature's timestamp does not verify."),
    "untrusted_timestamp": lazy_gettext("The timestamp was not issued by the agency."),
    # unmodified_after_signing
    "modified": lazy_gettext("The PDF was changed after signing."),
    "trailing_data": lazy_gettext("Bytes were appended after the end of the PDF."),
    "uncovered_revision": lazy_gettext("A later change is not covered by a document timestamp."),
    "objects_freed": lazy_gettext("A later change deletes parts of the document."),
    "empty_update": lazy_gettext("A later change is an empty update."),
    "catalog_changed": lazy_gettext("The document's structure was changed after signing."),
    "form_changed": lazy_gettext("The form was changed after signing."),
    "info_edited": lazy_gettext("The document information was edited after signing."),
    "metadata_changed": lazy_gettext("The metadata was changed after signing."),
    "annotation_added": lazy_gettext("An annotation was added after signing."),
    "page_changed": lazy_gettext("A page was changed after signing."),
    "content_changed": lazy_gettext("Content was changed after signing."),
    "dss_abuse": lazy_gettext("Existing content was hidden in the validation data."),
    # qr_payload
    "no_qr": lazy_gettext("The signed document carries no QR payload."),
    "qr_wrong_prefix": lazy_gettext("The QR code does not point at this register."),
    "qr_truncated": lazy_gettext("The QR payload is truncated or damaged."),
    "qr_unknown_key": lazy_gettext("The QR payload was signed with a key the agency never used."),
    "qr_bad_signature": lazy_gettext("The QR payload's signature does not verify."),
    "qr_mismatch": lazy_gettext("The QR payload names another certificate or scope."),
    # registry_binding, status, public_log
    "no_status_source": lazy_gettext("No register or status list was consulted."),
    "no_number": lazy_gettext("The signed document names no certificate number."),
    "not_registered": lazy_gettext("The register has no such certificate."),
    "registry_unreachable": lazy_gettext("The register could not be reached."),
    "offline": lazy_gettext("Checked offline: bound to the register by its signed QR code alone."),
    "not_recorded": lazy_gettext("This file is not one the register recorded for this number."),
    "unknown": lazy_gettext("The register gave no status."),
    "superseded": lazy_gettext("A newer certificate replaced this one."),
    "suspended": lazy_gettext("The accreditation is suspended."),
    "partially_suspended": lazy_gettext("Part of the accreditation is suspended."),
    "withdrawn": lazy_gettext("The accreditation was withdrawn."),
    "expired": lazy_gettext("The certificate has expired."),
    "no_proof": lazy_gettext("The register gave no proof from the public log."),
    "log_unreachable": lazy_gettext("The public log could not be reached."),
    "awaiting_checkpoint": lazy_gettext("The public log has not yet signed a checkpoint over it."),
    "bad_checkpoint": lazy_gettext("The public log's checkpoint is not signed by its key."),
    "leaf_mismatch": lazy_gettext("The public log recorded another file for this certificate."),
    "bad_inclusion_proof": lazy_gettext("The public log's proof does not verify."),
}
#: Long-term validation codes are pyHanko's sub-indications: one sentence for all.
LONG_TERM = lazy_gettext(
    "Long-term validation did not pass: the chain, its revocation data or its timestamps"
    " do not hold up today."
)
OTHER = lazy_gettext("Not met.")


def reason_text(check: Check) -> str:
    """The check's outcome in the reader's language."""
    if check.passed:
        return str(PASSED.get(check.name, OTHER))
    if check.code.startswith("lta_"):
        return str(LONG_TERM)
    return str(REASONS.get(check.code, OTHER))


def in_thai(check: dict[str, Any]) -> str:
    """A check from a report's JSON, as its Thai sentence (for the printed report)."""
    found = Check(check["name"], Outcome(check["outcome"]), check["detail"], check["code"])
    with force_locale("th"):
        return reason_text(found)


def on_screen(check: Check) -> str:
    """What the page shows under a check: the verifier's own detail in English
    (it names the signer, the revision, the dates), the sentence otherwise."""
    locale = get_locale()
    return check.detail if locale is None or locale.language == "en" else reason_text(check)
