"""``verify``: the acceptance policy of DESIGN section 4, check by check.

Every check runs and reports, even after another failed, so that a report
shows all that is wrong; only a failed ``parse`` stops the rest. An exception
inside a check is that check failing with its message, never a crash and never
a pass. Validation never fetches anything: revocation data comes from the
file (its DSS) and from the caller.
"""

from __future__ import annotations

import _imp
import asyncio
import hashlib
import logging
import re
import signal
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESPassed
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import DocumentSecurityStore, ades, validate_pdf_signature
from pyhanko.sign.validation.ades import AdESLTAValidationResult
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator.context import CertValidationPolicySpec, ValidationContext
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleTrustManager

from . import speedups
from .cms import altered_certificates, carried_certificates, structure_problems
from .errors import QrError
from .public_log import check_public_log, revision_digests
from .qr import decode_qr_payload
from .report import CHECK_NAMES, Check, Outcome, Report
from .revisions import analyse
from .revocation import revoked_before
from .sources import StatusAnswer, StatusSource, TrustBundle

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
ACCREDIT_NS = "urn:accredit:certificate:1"
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
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024
    max_revisions: int = 32
    max_objects: int = 200_000
    #: Arrays and dictionaries inside one another, within one object.
    max_nesting: int = 64
    #: Wall-clock budget per document; checks not started in time fail.
    seconds: float = 10.0


class BudgetExceeded(BaseException):
    """The document's wall-clock budget ran out in the middle of a check.

    A BaseException, so that no ``except Exception`` inside a check or a
    library can swallow it.
    """


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt whatever is running after ``seconds`` (main thread only, via SIGALRM).

    Elsewhere (a threaded server) the budget is still checked between checks.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        # Not while a module is being imported (an interrupted import leaves the
        # interpreter's state half-built); the interval timer fires again soon,
        # which also covers an exception swallowed by a __del__ or gc callback.
        if not _imp.lock_held():
            raise BudgetExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        # None: the handler was not installed from Python (libFuzzer's, say).
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


class _Budget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def spent(self) -> bool:
        return time.monotonic() > self.deadline


def _run(name: str, budget: _Budget, func: Callable[[], Check]) -> Check:
    if budget.spent():
        return Check(
            name, Outcome.FAILED, "the time budget for this document ran out", "time_budget"
        )
    try:
        return func()
    except Exception:  # a check that breaks fails; it never passes
        log.debug("check %s raised", name, exc_info=True)
        return Check(
            name,
            Outcome.FAILED,
            "could not be checked: the file breaks the PDF rules here",
            "error",
        )


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _long_term_validation(
    sig: EmbeddedPdfSignature, trust: TrustBundle, now: datetime
) -> AdESLTAValidationResult:
    """One PAdES-LTA validation (ETSI EN 319 102-1, 5.6.3) at ``now``, from the file alone.

    Its ``api_status`` also carries the cryptographic verdict, the signature
    timestamp and the diff analysis, so the integrity, trust and timestamp
    checks read it rather than validate everything a second time (which
    doubled the cost of a document).
    """
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build([_asn1(c) for c in trust.anchors]),
                revinfo_policy=CertRevTrustPolicy(
                    revocation_checking_policy=REQUIRE_REVINFO,
                    freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
                    # Accept the revocation data embedded at signing time.
                    freshness=timedelta(days=365 * 30),
                ),
                # The signature memo, when the entry point enabled the speed-ups.
                signature_validator=speedups.signature_validator(),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )
    timing = ValidationTimingInfo(
        validation_time=now, best_signature_time=now, point_in_time_validation=True
    )
    return asyncio.run(ades.ades_lta_validation(sig, spec, timing))


def _per_part_validation(
    sig: EmbeddedPdfSignature, reader: PdfFileReader, trust: TrustBundle
) -> PdfSignatureStatus:
    """pyHanko's signature, chain, timestamp and diff verdicts, each made on its own.

    A file with no DSS (a PAdES B-B or B-T signature from another tool) is
    still validated, from what its signature carries: it is signed, and
    whether it is intact does not depend on the agency's long-term data.
    """
    options: dict[str, Any] = {
        "trust_roots": [_asn1(c) for c in trust.anchors],
        "allow_fetching": False,
        "revocation_mode": "hard-fail",
        "signature_validator": speedups.signature_validator(),
    }
    try:
        context = DocumentSecurityStore.read_dss(reader).as_validation_context(options)
    except NoDSSFoundError:
        # No revocation data to require: the trust checks still refuse such a
        # file (it fails long-term validation), but its integrity gets an answer.
        context = ValidationContext(**{**options, "revocation_mode": "soft-fail"})
    return validate_pdf_signature(
        sig, signer_validation_context=context, ts_validation_context=context
    )


def _from_recursion(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(32):
        if seen is None:
            return False
        if isinstance(seen, RecursionError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _nested_deeper_than(obj: generic.PdfObject, limit: int) -> bool:
    """Whether arrays and dictionaries nest more than ``limit`` deep (references not followed)."""
    stack: list[tuple[generic.PdfObject, int]] = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, generic.DictionaryObject):
            children: Iterable[generic.PdfObject] = item.values()
        elif isinstance(item, generic.ArrayObject):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _xmp_fields(reader: PdfFileReader, revision: int) -> dict[str, str]:
    """Our fields from the XMP packet as it stood in ``revision`` (elements or attributes)."""
    resolver = reader.get_historical_resolver(revision)
    catalog = resolver(reader.root_ref)
    ref = catalog.raw_get("/Metadata") if "/Metadata" in catalog else None
    if not isinstance(ref, generic.IndirectObject):
        return {}
    metadata = resolver(ref.reference)
    text = metadata.data.decode("utf-8", errors="replace")
    body = re.sub(r"<\?xpacket[^>]*\?>", "", text).strip()
    root = ET.fromstring(body)
    found: dict[str, str] = {}
    prefix = "{" + ACCREDIT_NS + "}"
    for element in root.iter():
        for key, value in element.attrib.items():
            if key.startswith(prefix):
                found[key[len(prefix) :]] = value
        if element.tag.startswith(prefix):
            found[element.tag[len(prefix) :]] = (element.text or "").strip()
    return found


def verify(
    pdf: bytes,
    trust: TrustBundle,
    status: StatusSource | None = None,
    *,
    now: datetime | None = None,
    limits: Limits | None = None,
    filename: str | None = None,
) -> Report:
    """Is this PDF genuine, unaltered and current? Returns a typed ``Report``.

    Never raises for any input: a failure outside the individual checks (a bug)
    still yields a report that says the document could not be verified.
    """
    limits = limits or Limits()
    checks: list[Check] = []
    try:
        with _deadline(limits.seconds):
            return _verify(
                pdf, trust, status, now=now, limits=limits, filename=filename, checks=checks
            )
    except BudgetExceeded:
        return cut_off(filename, checks)
    except Exception:
        log.exception("verification failed outside a check")
        return Report(
            (Check("parse", Outcome.FAILED, "could not be verified", "error"),),
            filename=filename,
        )


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


def cut_off(filename: str | None, checks: Sequence[Check] = ()) -> Report:
    """The report of a file whose time ran out: what ran, then ``time_budget`` for the rest."""
    done = {c.name for c in checks}
    late = [
        Check(name, Outcome.FAILED, "the time budget for this document ran out", "time_budget")
        for name in CHECK_NAMES
        if name not in done
    ]
    return Report((*checks, *late), filename=filename)


def _verify(
    pdf: bytes,
    trust: TrustBundle,
    status: StatusSource | None = None,
    *,
    now: datetime | None = None,
    limits: Limits | None = None,
    filename: str | None = None,
    checks: list[Check],
) -> Report:
    limits = limits or Limits()
    budget = _Budget(limits.seconds)
    now = now or datetime.now(UTC)
    state: dict[str, Any] = {}

    def parse() -> Check:
        if len(pdf) > limits.max_bytes:
            return Check(
                "parse",
                Outcome.FAILED,
                f"the file is larger than {limits.max_bytes // (1024 * 1024)} MB",
                "too_large",
            )
        if pdf[:1024].lstrip()[:5] != b"%PDF-":
            return Check("parse", Outcome.FAILED, "the file is not a PDF", "not_pdf")
        try:
            reader = PdfFileReader(BytesIO(pdf), strict=False)
        except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
            return Check("parse", Outcome.FAILED, f"the PDF cannot be read: {exc}", "malformed")
        if reader.encrypted:
            return Check(
                "parse",
                Outcome.FAILED,
                "the PDF is encrypted; agency certificates never are",
                "encrypted",
            )
        if reader.xrefs.total_revisions > limits.max_revisions:
            return Check(
                "parse", Outcome.FAILED, "the PDF has too many revisions", "too_many_revisions"
            )
        objects = sum(
            len(reader.xrefs.explicit_refs_in_revision(r))
            for r in range(reader.xrefs.total_revisions)
        )
        if objects > limits.max_objects:
            return Check(
                "parse", Outcome.FAILED, "the PDF has too many objects", "too_many_objects"
            )
        too_deep = Check(
            "parse",
            Outcome.FAILED,
            f"the PDF nests arrays or dictionaries more than {limits.max_nesting} deep",
            "too_deeply_nested",
        )
        try:
            # Every object of every revision, read here once, so that no check
            # meets an unread hostile object: a current version through the
            # reader's cache, a replaced one through its revision's view (which
            # the diff analysis reads and caches too).
            for revision in range(reader.xrefs.total_revisions):
                for ref in reader.xrefs.explicit_refs_in_revision(revision):
                    obj = (
                        reader.get_object(ref)
                        if reader.xrefs.get_last_change(ref) == revision
                        else reader.get_historical_resolver(revision)(ref)
                    )
                    if _nested_deeper_than(obj, limits.max_nesting):
                        return too_deep
        except RecursionError:
            return too_deep
        except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
            if _from_recursion(exc):  # pyHanko re-raises some as a read error
                return too_deep
            return Check("parse", Outcome.FAILED, f"the PDF cannot be read: {exc}", "malformed")
        signatures = reader.embedded_signatures
        state["reader"] = reader
        state["approvals"] = [s for s in signatures if s.sig_object_type == "/Sig"]
        return Check("parse", Outcome.PASSED, "the file is a readable PDF")

    checks.append(_run("parse", budget, parse))
    if not checks[0].passed:
        return Report(tuple(checks), filename=filename)

    reader: PdfFileReader = state["reader"]
    approvals: list[EmbeddedPdfSignature] = state["approvals"]
    sig = approvals[0] if len(approvals) == 1 else None

    def integrity() -> Check:
        if not approvals:
            return Check("signature_integrity", Outcome.FAILED, "the PDF is not signed", "unsigned")
        if len(approvals) > 1:
            return Check(
                "signature_integrity",
                Outcome.FAILED,
                f"the PDF carries {len(approvals)} signatures; certificates have one",
                "extra_signature",
            )
        assert sig is not None
        lta = _long_term_validation(sig, trust, now)
        state["lta"] = lta
        # A failed LTA run stops at the first problem it meets (a broken digest
        # leaves the chain and the timestamp unexamined), so a failing document
        # gets the per-part validation, and its report says all that is wrong.
        result = (
            lta.api_status
            if lta.ades_subindic is AdESPassed.OK
            else _per_part_validation(sig, reader, trust)
        )
        if result is None:
            return Check(
                "signature_integrity",
                Outcome.FAILED,
                "the signature could not be validated",
                "not_validated",
            )
        state["status"] = result
        if not result.intact:
            return Check(
                "signature_integrity",
                Outcome.FAILED,
                "the signed content does not match the signature",
                "digest_mismatch",
            )
        if not result.valid:
            return Check(
                "signature_integrity",
                Outcome.FAILED,
                "the signature value does not verify",
                "bad_signature",
            )
        # The CMS framing and certificate bags are not signed: check them too.
        for embedded in reader.embedded_signatures:
            framing = structure_problems(embedded.signed_data)
            if framing:
                return Check(
                    "signature_integrity",
                    Outcome.FAILED,
                    f"the signature container was altered ({framing[0]})",
                    "altered_container",
                )
            altered = altered_certificates(embedded.signed_data, trust.anchors)
            if altered:
                return Check(
                    "signature_integrity",
                    Outcome.FAILED,
                    f"a certificate carried inside a signature was altered ({altered[0]})",
                    "altered_certificate",
                )
        return Check(
            "signature_integrity", Outcome.PASSED, "the signature matches the signed content"
        )

    checks.append(_run("signature_integrity", budget, integrity))
    pyhanko_status = state.get("status")
    signer_cert: x509.Certificate | None = None
    if sig is not None:
        try:
            signer_cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
        except Exception:
            signer_cert = None

    def signed_at() -> datetime | None:
        """The signing time a trusted timestamp proves (an untrusted one proves nothing)."""
        ts = getattr(pyhanko_status, "timestamp_validity", None)
        if ts is None or not (ts.intact and ts.valid and ts.trusted):
            return None
        return ts.timestamp

    def trusted() -> Check:
        lta = state.get("lta")
        if pyhanko_status is None or signer_cert is None or lta is None:
            return Check("signer_trusted", Outcome.FAILED, "no signature to check", "unsigned")
        subject = signer_cert.subject.rfc4514_string()
        indication = lta.ades_subindic
        if pyhanko_status.revoked or indication in REVOKED_INDICATIONS:
            return Check(
                "signer_trusted", Outcome.FAILED, "the signing certificate was revoked", "revoked"
            )
        assert sig is not None
        revoked = revoked_before(
            signer_cert,
            carried_certificates(sig.signed_data),
            trust.anchors,
            trust.crls,
            signed_at(),
        )
        if revoked is not None:
            when = signed_at()
            return Check(
                "signer_trusted",
                Outcome.FAILED,
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
        # chain is judged on its own: a broken digest is another check's failure.
        chain_found = (
            pyhanko_status.trust_problem_indic is None
            and pyhanko_status.validation_path is not None
        )
        if (chain_found and indication not in UNTRUSTED_INDICATIONS) or (
            indication is AdESPassed.OK
        ):
            return Check(
                "signer_trusted",
                Outcome.PASSED,
                f"signed by {subject}, which chains to a trusted agency root",
            )
        return Check(
            "signer_trusted",
            Outcome.FAILED,
            f"the signer ({subject}) does not chain to a trusted agency root",
            "untrusted_signer",
        )

    checks.append(_run("signer_trusted", budget, trusted))

    def role() -> Check:
        if signer_cert is None:
            return Check("signer_role", Outcome.FAILED, "no signature to check", "unsigned")
        try:
            usages = signer_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            usages = []
        if DOCUMENT_SIGNING in usages:
            return Check(
                "signer_role",
                Outcome.PASSED,
                "the signing certificate is an agency document-signing certificate",
            )
        return Check(
            "signer_role",
            Outcome.FAILED,
            "the signing certificate is not a document-signing certificate",
            "wrong_role",
        )

    checks.append(_run("signer_role", budget, role))

    def timestamp() -> Check:
        ts = getattr(pyhanko_status, "timestamp_validity", None)
        if ts is None:
            return Check(
                "signature_timestamp",
                Outcome.FAILED,
                "the signature carries no timestamp",
                "no_timestamp",
            )
        if not (ts.intact and ts.valid):
            return Check(
                "signature_timestamp",
                Outcome.FAILED,
                "the signature timestamp does not verify",
                "bad_timestamp",
            )
        if not ts.trusted:
            return Check(
                "signature_timestamp",
                Outcome.FAILED,
                "the timestamp was not issued by a trusted agency TSA",
                "untrusted_timestamp",
            )
        return Check(
            "signature_timestamp",
            Outcome.PASSED,
            f"signed no later than {ts.timestamp:%Y-%m-%d %H:%M:%S} UTC",
        )

    checks.append(_run("signature_timestamp", budget, timestamp))

    def unmodified() -> Check:
        if sig is None or pyhanko_status is None:
            return Check(
                "unmodified_after_signing", Outcome.FAILED, "no signature to check", "unsigned"
            )
        level = pyhanko_status.modification_level
        if level is None or level > ModificationLevel.LTA_UPDATES:
            return Check(
                "unmodified_after_signing",
                Outcome.FAILED,
                "the PDF was changed after signing, beyond adding long-term validation data",
                "modified",
            )
        finding = analyse(reader, pdf, sig.signed_revision)
        if not finding.ok:
            return Check("unmodified_after_signing", Outcome.FAILED, finding.detail, finding.code)
        return Check("unmodified_after_signing", Outcome.PASSED, finding.detail)

    checks.append(_run("unmodified_after_signing", budget, unmodified))

    def long_term() -> Check:
        lta = state.get("lta")
        if sig is None or lta is None:
            return Check(
                "long_term_validation", Outcome.FAILED, "no signature to check", "unsigned"
            )
        if lta.ades_subindic is AdESPassed.OK:
            return Check(
                "long_term_validation",
                Outcome.PASSED,
                f"valid as of {now:%Y-%m-%d} through the document timestamps",
            )
        return Check(
            "long_term_validation",
            Outcome.FAILED,
            "long-term validation did not pass: the chain, its revocation data or its"
            " timestamps do not hold up today",
            "lta_" + lta.ades_subindic.name.lower(),
        )

    checks.append(_run("long_term_validation", budget, long_term))

    fields: dict[str, str] = {}
    if sig is not None:
        try:
            fields = _xmp_fields(reader, sig.signed_revision)
        except Exception:
            fields = {}
    number = fields.get("certificateNumber")
    digests = {hashlib.sha256(pdf).hexdigest()}
    signed_length: int | None = None
    if sig is not None:
        try:
            end = sig.byte_range[2] + sig.byte_range[3]
            digests.add(hashlib.sha256(memoryview(pdf)[:end]).hexdigest())
            signed_length = end if 0 < end <= len(pdf) else None
        except Exception:
            pass
    answer: StatusAnswer | None = None

    def qr() -> Check:
        payload = fields.get("qrPayload")
        if not payload:
            return Check(
                "qr_payload", Outcome.FAILED, "the signed document carries no QR payload", "no_qr"
            )
        try:
            claims = decode_qr_payload(payload, trust.qr_keys)
        except QrError as exc:
            return Check("qr_payload", Outcome.FAILED, str(exc), exc.code)
        if claims.certificate_number != number:
            return Check(
                "qr_payload",
                Outcome.FAILED,
                "the QR payload names another certificate",
                "qr_mismatch",
            )
        expected = fields.get("scopeDigest")
        if expected and expected != claims.scope_digest.hex():
            return Check(
                "qr_payload",
                Outcome.FAILED,
                "the QR payload's scope digest does not match the document",
                "qr_mismatch",
            )
        state["claims"] = claims
        return Check(
            "qr_payload", Outcome.PASSED, f"the signed QR payload names {claims.certificate_number}"
        )

    def binding() -> Check:
        nonlocal answer
        if status is None:
            return Check(
                "registry_binding",
                Outcome.INDETERMINATE,
                "no register was consulted",
                "no_status_source",
            )
        if not number:
            return Check(
                "registry_binding",
                Outcome.FAILED,
                "the signed document names no certificate number",
                "no_number",
            )
        answer = status.lookup(number, digests, state.get("claims"))
        if answer is None:
            return Check(
                "registry_binding",
                Outcome.FAILED,
                f"the register has no certificate {number}",
                "not_registered",
            )
        if answer.detail.get("error"):
            return Check(
                "registry_binding",
                Outcome.INDETERMINATE,
                f"could not be checked: {answer.detail['error']}",
                "registry_unreachable",
            )
        if answer.source == "offline":
            return Check(
                "registry_binding",
                Outcome.INDETERMINATE,
                f"checked offline, as of {answer.as_of:%Y-%m-%d %H:%M} UTC: the document is"
                " bound to the register by its signed QR payload alone",
                "offline",
            )
        if not answer.bound:
            return Check(
                "registry_binding",
                Outcome.FAILED,
                f"this file is not one the register recorded for {number}: "
                "neither the signed original nor the served copy",
                "not_recorded",
            )
        return Check(
            "registry_binding", Outcome.PASSED, f"the register recorded this file as {number}"
        )

    qr_check = _run("qr_payload", budget, qr)
    checks.append(_run("registry_binding", budget, binding))
    checks.append(qr_check)

    def current() -> Check:
        if answer is None:
            if status is None:
                return Check(
                    "status",
                    Outcome.INDETERMINATE,
                    "status could not be checked: no register or status list",
                    "no_status_source",
                )
            return Check("status", Outcome.INDETERMINATE, "the register gave no status", "unknown")
        if answer.detail.get("error"):
            return Check(
                "status", Outcome.INDETERMINATE, str(answer.detail["error"]), "registry_unreachable"
            )
        passed = answer.status.value == "current"
        detail = f"{answer.status.value} ({answer.source}, as of {answer.as_of:%Y-%m-%d %H:%M} UTC)"
        suspended = suspended_items_text(answer.detail.get("suspended_items"))
        return Check(
            "status",
            Outcome.PASSED if passed else Outcome.FAILED,
            f"{detail}; suspended: {suspended}" if suspended else detail,
            "ok" if passed else answer.status.value,
        )

    checks.append(_run("status", budget, current))
    checks.append(
        _run(
            "public_log",
            budget,
            lambda: check_public_log(answer, number, revision_digests(pdf)),
        )
    )
    return Report(
        tuple(checks),
        certificate_number=number,
        revision=int(fields["revision"]) if fields.get("revision", "").isdigit() else None,
        signer=signer_cert.subject.rfc4514_string() if signer_cert else None,
        signed_at=signed_at(),
        status_source=answer.source if answer else None,
        status_as_of=answer.as_of if answer else None,
        reported_status=answer.status if answer else None,
        filename=filename,
        signed_length=signed_length,
    )
