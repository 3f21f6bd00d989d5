"""The acceptance rules of DESIGN section 4, one named function per check.

Each rule judges the frozen ``Evidence`` and returns its ``Check``; none reads
the file or asks the register. Failure is the default: a rule passes only on
a path that says why. ``CODES`` lists every reason code a rule can give, and
the tests hold each one to a document that produces it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cryptography import x509
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESPassed
from pyhanko.sign.diff_analysis import ModificationLevel

from .cms import altered_certificates, carried_certificates, claims_agency, structure_problems
from .errors import QrError
from .evidence import Evidence
from .public_log import check_public_log
from .qr import QrClaims
from .report import Check, Outcome
from .revisions import analyse
from .revocation import revoked_before

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
#: LTA outcomes that mean the signer's certificate was revoked when it signed.
REVOKED_INDICATIONS = frozenset(
    {
        AdESFailure.REVOKED,
        AdESIndeterminate.REVOKED_NO_POE,
        AdESIndeterminate.REVOKED_CA_NO_POE,
    }
)
#: LTA outcomes that mean no trusted chain was found at all.
UNTRUSTED_INDICATIONS = frozenset(
    {
        AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
        AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE,
    }
)

Rule = Callable[[Evidence], Check]


def _failed(name: str, detail: str, code: str) -> Check:
    return Check(name, Outcome.FAILED, detail, code)


def _unvalidated(name: str, evidence: Evidence) -> Check:
    """A rule that needs the validation results, when there are none: say which lack."""
    if not evidence.approvals:
        return _failed(name, "the PDF is not signed", "unsigned")
    if len(evidence.approvals) > 1:
        return _failed(name, "the PDF carries more than one signature", "extra_signature")
    return _failed(name, "the signature could not be validated", "not_validated")


def _claims_agency(evidence: Evidence) -> bool:
    """Whether the agency's CMS profile applies: unless the signer is plainly another PKI's.

    A signer that chains to an agency root by any path (the DSS's certificates
    included) gets the profile, so that removing the issuing CA from the
    container's bag does not take the container out of the agency's rules.
    """
    signer, sig, result = evidence.signer_cert, evidence.signature, evidence.validation
    if signer is None or sig is None:
        return True  # nothing says otherwise: the agency's profile applies
    if (evidence.lta is not None and evidence.lta.ades_subindic is AdESPassed.OK) or (
        result is not None and result.validation_path is not None
    ):
        return True
    try:
        carried = carried_certificates(sig.signed_data)
    except ValueError:
        return True
    return claims_agency(signer, carried, evidence.trust.anchors)


def signature_integrity(evidence: Evidence) -> Check:
    """One approval signature whose value verifies over the bytes it covers."""
    name = "signature_integrity"
    if not evidence.approvals:
        return _failed(name, "the PDF is not signed", "unsigned")
    if len(evidence.approvals) > 1:
        return _failed(
            name,
            f"the PDF carries {len(evidence.approvals)} signatures; certificates have one",
            "extra_signature",
        )
    result = evidence.validation
    if result is None:
        return _unvalidated(name, evidence)
    if not result.intact:
        return _failed(name, "the signed content does not match the signature", "digest_mismatch")
    if not result.valid:
        return _failed(name, "the signature value does not verify", "bad_signature")
    if not _claims_agency(evidence):
        # Another PKI's signature, intact: its framing is its own tool's business.
        return Check(name, Outcome.PASSED, "the signature matches the signed content")
    # The CMS framing and certificate bags are not signed: check them too.
    for embedded in evidence.reader.embedded_signatures:
        try:
            framing = structure_problems(embedded.signed_data)
            altered = altered_certificates(embedded.signed_data, evidence.trust.anchors)
        except ValueError as exc:  # a bag that holds something other than certificates
            return _failed(
                name, f"the signature container was altered ({exc})", "altered_container"
            )
        if framing:
            return _failed(
                name, f"the signature container was altered ({framing[0]})", "altered_container"
            )
        if altered:
            return _failed(
                name,
                f"a certificate carried inside a signature was altered ({altered[0]})",
                "altered_certificate",
            )
    return Check(name, Outcome.PASSED, "the signature matches the signed content")


def signer_trusted(evidence: Evidence) -> Check:
    """The signer chains to an agency root and was not revoked when it signed."""
    name = "signer_trusted"
    result, lta, signer = evidence.validation, evidence.lta, evidence.signer_cert
    if result is None or lta is None or signer is None or evidence.signature is None:
        return _unvalidated(name, evidence)
    subject = signer.subject.rfc4514_string()
    indication = lta.ades_subindic
    if result.revoked or indication in REVOKED_INDICATIONS:
        return _failed(name, "the signing certificate was revoked", "revoked")
    when = evidence.signed_at
    revoked = revoked_before(
        signer,
        carried_certificates(evidence.signature.signed_data),
        evidence.trust.anchors,
        evidence.trust.crls,
        when,
    )
    if revoked is not None:
        return _failed(
            name,
            f"the agency revoked {revoked.subject} on {revoked.at:%Y-%m-%d %H:%M} UTC"
            + (f" ({revoked.reason})" if revoked.reason else "")
            + (
                f", before this document was signed ({when:%Y-%m-%d %H:%M} UTC)"
                if when
                else ", and no trusted timestamp proves an earlier signing time"
            ),
            "revoked",
        )
    # Trusted now, or (once expired) at the time the timestamps prove. The
    # chain is judged on its own: a broken digest is another rule's failure.
    chain_found = result.trust_problem_indic is None and result.validation_path is not None
    if (chain_found and indication not in UNTRUSTED_INDICATIONS) or indication is AdESPassed.OK:
        return Check(
            name, Outcome.PASSED, f"signed by {subject}, which chains to a trusted agency root"
        )
    return _failed(
        name,
        f"the signer ({subject}) does not chain to a trusted agency root",
        "untrusted_signer",
    )


def signer_role(evidence: Evidence) -> Check:
    """The signing certificate is for signing documents (EKU id-kp-documentSigning)."""
    name = "signer_role"
    signer = evidence.signer_cert
    if signer is None:
        return _unvalidated(name, evidence)
    try:
        usages: Any = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = []
    if DOCUMENT_SIGNING in usages:
        return Check(
            name,
            Outcome.PASSED,
            "the signing certificate is an agency document-signing certificate",
        )
    return _failed(
        name, "the signing certificate is not a document-signing certificate", "wrong_role"
    )


def signature_timestamp(evidence: Evidence) -> Check:
    """A timestamp from a trusted agency TSA proves when the signature existed."""
    name = "signature_timestamp"
    if evidence.validation is None:
        return _unvalidated(name, evidence)
    ts = evidence.validation.timestamp_validity
    if ts is None:
        return _failed(name, "the signature carries no timestamp", "no_timestamp")
    if not (ts.intact and ts.valid):
        return _failed(name, "the signature timestamp does not verify", "bad_timestamp")
    if not ts.trusted:
        return _failed(
            name, "the timestamp was not issued by a trusted agency TSA", "untrusted_timestamp"
        )
    return Check(name, Outcome.PASSED, f"signed no later than {ts.timestamp:%Y-%m-%d %H:%M:%S} UTC")


def unmodified_after_signing(evidence: Evidence) -> Check:
    """Nothing but long-term validation data was added after the signature (rule 3)."""
    name = "unmodified_after_signing"
    sig, result = evidence.signature, evidence.validation
    if sig is None or result is None:
        return _unvalidated(name, evidence)
    level = result.modification_level
    if level is None or level > ModificationLevel.LTA_UPDATES:
        return _failed(
            name,
            "the PDF was changed after signing, beyond adding long-term validation data",
            "modified",
        )
    finding = analyse(evidence.reader, evidence.pdf, sig.signed_revision)
    if not finding.ok:
        return _failed(name, finding.detail, finding.code)
    return Check(name, Outcome.PASSED, finding.detail)


def long_term_validation(evidence: Evidence) -> Check:
    """PAdES-LTA validation passes today, through the document timestamps."""
    name = "long_term_validation"
    lta = evidence.lta
    if evidence.signature is None or lta is None:
        return _unvalidated(name, evidence)
    if lta.ades_subindic is AdESPassed.OK:
        return Check(
            name,
            Outcome.PASSED,
            f"valid as of {evidence.now:%Y-%m-%d} through the document timestamps",
        )
    return _failed(
        name,
        "long-term validation did not pass: the chain, its revocation data or its"
        " timestamps do not hold up today",
        "lta_" + lta.ades_subindic.name.lower(),
    )


def qr_payload(evidence: Evidence) -> Check:
    """The signed revision's QR payload is signed by an agency key and names this document."""
    name = "qr_payload"
    qr = evidence.qr
    if qr is None:
        return _failed(name, "the signed document carries no QR payload", "no_qr")
    if isinstance(qr, QrError):
        return _failed(name, str(qr), qr.code)
    if qr.certificate_number != evidence.number:
        return _failed(name, "the QR payload names another certificate", "qr_mismatch")
    expected = evidence.fields.get("scopeDigest")
    if expected and expected != qr.scope_digest.hex():
        return _failed(
            name, "the QR payload's scope digest does not match the document", "qr_mismatch"
        )
    return Check(name, Outcome.PASSED, f"the signed QR payload names {qr.certificate_number}")


def qr_claims(evidence: Evidence, check: Check) -> QrClaims | None:
    """The QR claims the register may compare, only when ``qr_payload`` passed."""
    return evidence.qr if check.passed and isinstance(evidence.qr, QrClaims) else None


def registry_binding(evidence: Evidence) -> Check:
    """The register recorded this very file (rule 4); offline, the QR binds alone."""
    name = "registry_binding"
    number, answer = evidence.number, evidence.answer
    if not evidence.consulted:
        return Check(name, Outcome.INDETERMINATE, "no register was consulted", "no_status_source")
    if not number:
        return _failed(name, "the signed document names no certificate number", "no_number")
    if evidence.lookup_error:
        return _failed(name, "could not be checked: the register's answer was unreadable", "error")
    if answer is None:
        return _failed(name, f"the register has no certificate {number}", "not_registered")
    if answer.detail.get("error"):
        return Check(
            name,
            Outcome.INDETERMINATE,
            f"could not be checked: {answer.detail['error']}",
            "registry_unreachable",
        )
    if answer.source == "offline":
        return Check(
            name,
            Outcome.INDETERMINATE,
            f"checked offline, as of {answer.as_of:%Y-%m-%d %H:%M} UTC: the document is"
            " bound to the register by its signed QR payload alone",
            "offline",
        )
    if not answer.bound:
        return _failed(
            name,
            f"this file is not one the register recorded for {number}: "
            "neither the signed original nor the served copy",
            "not_recorded",
        )
    return Check(name, Outcome.PASSED, f"the register recorded this file as {number}")


def suspended_items_text(items: Any) -> str:
    """The register's suspended items in one line: what, since when, until when.

    The same list the QR page and ``/verify`` show, for the command line.
    """
    if not isinstance(items, list):
        return ""
    parts = []
    for item in items[:50]:
        if not isinstance(item, dict):
            continue
        what = " · ".join(str(item.get(k) or "") for k in ("product_en", "parameter_en", "method"))
        since, until = item.get("since"), item.get("until")
        parts.append(f"{what} (from {since}" + (f" to {until})" if until else ", until lifted)"))
    return "; ".join(parts)


def status(evidence: Evidence) -> Check:
    """What the register, or a signed status list, says of the certificate now."""
    name = "status"
    answer = evidence.answer
    if answer is None:
        if not evidence.consulted:
            return Check(
                name,
                Outcome.INDETERMINATE,
                "status could not be checked: no register or status list",
                "no_status_source",
            )
        return Check(name, Outcome.INDETERMINATE, "the register gave no status", "unknown")
    if answer.detail.get("error"):
        return Check(
            name, Outcome.INDETERMINATE, str(answer.detail["error"]), "registry_unreachable"
        )
    passed = answer.status.value == "current"
    detail = f"{answer.status.value} ({answer.source}, as of {answer.as_of:%Y-%m-%d %H:%M} UTC)"
    suspended = suspended_items_text(answer.detail.get("suspended_items"))
    return Check(
        name,
        Outcome.PASSED if passed else Outcome.FAILED,
        f"{detail}; suspended: {suspended}" if suspended else detail,
        "ok" if passed else answer.status.value,
    )


def public_log(evidence: Evidence) -> Check:
    """The agency's public log recorded this file's issuance (DESIGN §6)."""
    return check_public_log(evidence.answer, evidence.number, evidence.revision_digests)


#: The rules on the document alone, in the order they run.
DOCUMENT_RULES: tuple[Rule, ...] = (
    signature_integrity,
    signer_trusted,
    signer_role,
    signature_timestamp,
    unmodified_after_signing,
    long_term_validation,
)
#: The rules on the register's answer, after ``qr_payload`` and ``consult``.
REGISTER_RULES: tuple[Rule, ...] = (registry_binding, status, public_log)

#: Every reason code each check can give, besides ``ok``, ``error`` and ``time_budget``.
CODES: Mapping[str, frozenset[str]] = {
    "parse": frozenset(
        {
            "too_large",
            "not_pdf",
            "malformed",
            "encrypted",
            "too_many_revisions",
            "too_many_objects",
            "too_deeply_nested",
        }
    ),
    "signature_integrity": frozenset(
        {
            "unsigned",
            "extra_signature",
            "not_validated",
            "digest_mismatch",
            "bad_signature",
            "altered_container",
            "altered_certificate",
        }
    ),
    "signer_trusted": frozenset({"revoked", "untrusted_signer"}),
    "signer_role": frozenset({"wrong_role"}),
    "signature_timestamp": frozenset({"no_timestamp", "bad_timestamp", "untrusted_timestamp"}),
    "unmodified_after_signing": frozenset(
        {
            "modified",
            "trailing_data",
            "uncovered_revision",
            "objects_freed",
            "empty_update",
            "catalog_changed",
            "form_changed",
            "info_edited",
            "metadata_changed",
            "annotation_added",
            "page_changed",
            "dss_abuse",
        }
    ),
    "long_term_validation": frozenset({"lta_*"}),
    "qr_payload": frozenset(
        {
            "no_qr",
            "qr_wrong_prefix",
            "qr_truncated",
            "qr_unknown_key",
            "qr_bad_signature",
            "qr_mismatch",
        }
    ),
    "registry_binding": frozenset(
        {
            "no_status_source",
            "no_number",
            "not_registered",
            "registry_unreachable",
            "offline",
            "not_recorded",
        }
    ),
    "status": frozenset(
        {
            "no_status_source",
            "unknown",
            "registry_unreachable",
            "superseded",
            "suspended",
            "partially_suspended",
            "withdrawn",
            "expired",
        }
    ),
    "public_log": frozenset(
        {
            "no_status_source",
            "registry_unreachable",
            "no_proof",
            "log_unreachable",
            "awaiting_checkpoint",
            "bad_checkpoint",
            "leaf_mismatch",
            "bad_inclusion_proof",
        }
    ),
}
