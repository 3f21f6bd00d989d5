"""What a document offers the rules: read and validated once, then frozen.

``read`` is the ``parse`` rule: the file's limits and its readability, which
stop everything else when they fail. ``examine`` then runs pyHanko's long-term
validation (and, for a file that fails it, the per-part validation), reads the
signed revision's metadata and decodes its QR payload, once each. ``consult``
asks the register, with what the document claims. The rules in ``rules`` only
judge this evidence; none of them reads the file or the register again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from io import BytesIO
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
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
from .errors import QrError
from .public_log import revision_digests
from .qr import QrClaims, decode_qr_payload
from .report import Check, Outcome
from .sources import StatusAnswer, StatusSource, TrustBundle

ACCREDIT_NS = "urn:accredit:certificate:1"
RDF_RESOURCE = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}resource"
#: Errors pyHanko raises for a file that breaks the PDF rules.
READ_ERRORS = (PdfError, ValueError, KeyError, IndexError, TypeError)
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


@dataclass(frozen=True)
class Evidence:
    """Everything the rules judge, each fact read once.

    The validation results are None where they could not be had; the flags
    say why, so that a rule tells "not signed" from "could not be validated".
    """

    pdf: bytes
    reader: PdfFileReader
    trust: TrustBundle
    now: datetime
    #: Approval signatures (``/Sig``), not document timestamps.
    approvals: tuple[EmbeddedPdfSignature, ...]
    lta: AdESLTAValidationResult | None = None
    #: The LTA run's status when it passed, else the per-part validation's.
    validation: PdfSignatureStatus | None = None
    #: pyHanko raised while validating: the file breaks the rules where it reads.
    validation_error: bool = False
    signer_cert: x509.Certificate | None = None
    #: Our XMP fields as they stood in the signed revision.
    fields: Mapping[str, str] = field(default_factory=dict)
    qr: QrClaims | QrError | None = None
    #: A status source was given (a register, or a signed status list).
    consulted: bool = False
    answer: StatusAnswer | None = None
    #: The status source raised instead of answering.
    lookup_error: bool = False

    @property
    def signature(self) -> EmbeddedPdfSignature | None:
        """The one approval signature, when there is exactly one."""
        return self.approvals[0] if len(self.approvals) == 1 else None

    @property
    def number(self) -> str | None:
        return self.fields.get("certificateNumber") or None

    @property
    def signed_at(self) -> datetime | None:
        """The signing time a trusted timestamp proves (an untrusted one proves nothing)."""
        ts = getattr(self.validation, "timestamp_validity", None)
        if ts is None or not (ts.intact and ts.valid and ts.trusted):
            return None
        return ts.timestamp

    @cached_property
    def signed_length(self) -> int | None:
        """Where the signed revision ends: ``pdf[:signed_length]`` is what was signed."""
        sig = self.signature
        if sig is None:
            return None
        try:
            end = int(sig.byte_range[2]) + int(sig.byte_range[3])
        except (TypeError, ValueError, IndexError, KeyError, PdfError):
            return None
        return end if 0 < end <= len(self.pdf) else None

    @cached_property
    def digests(self) -> frozenset[str]:
        """SHA-256 of the file and of its signed revision: what the register may hold."""
        found = {hashlib.sha256(self.pdf).hexdigest()}
        if self.signed_length is not None:
            found.add(hashlib.sha256(memoryview(self.pdf)[: self.signed_length]).hexdigest())
        return frozenset(found)

    @cached_property
    def revision_digests(self) -> frozenset[str]:
        return revision_digests(self.pdf)


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


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


def _parse_failed(detail: str, code: str) -> tuple[Check, None]:
    return Check("parse", Outcome.FAILED, detail, code), None


def read(pdf: bytes, limits: Limits) -> tuple[Check, PdfFileReader | None]:
    """The ``parse`` rule: within the limits, readable, and every object read once.

    Every object of every revision is read here, so that no later rule meets
    an unread hostile object: a current version through the reader's cache, a
    replaced one through its revision's view (which the diff analysis reads
    and caches too).
    """
    if len(pdf) > limits.max_bytes:
        return _parse_failed(
            f"the file is larger than {limits.max_bytes // (1024 * 1024)} MB", "too_large"
        )
    if pdf[:1024].lstrip()[:5] != b"%PDF-":
        return _parse_failed("the file is not a PDF", "not_pdf")
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
    except READ_ERRORS as exc:
        return _parse_failed(f"the PDF cannot be read: {exc}", "malformed")
    if reader.encrypted:
        return _parse_failed("the PDF is encrypted; agency certificates never are", "encrypted")
    revisions = reader.xrefs.total_revisions
    if revisions > limits.max_revisions:
        return _parse_failed("the PDF has too many revisions", "too_many_revisions")
    if sum(len(reader.xrefs.explicit_refs_in_revision(r)) for r in range(revisions)) > (
        limits.max_objects
    ):
        return _parse_failed("the PDF has too many objects", "too_many_objects")
    too_deep = (
        f"the PDF nests arrays or dictionaries more than {limits.max_nesting} deep",
        "too_deeply_nested",
    )
    try:
        for revision in range(revisions):
            for ref in reader.xrefs.explicit_refs_in_revision(revision):
                obj = (
                    reader.get_object(ref)
                    if reader.xrefs.get_last_change(ref) == revision
                    else reader.get_historical_resolver(revision)(ref)
                )
                if _nested_deeper_than(obj, limits.max_nesting):
                    return _parse_failed(*too_deep)
    except RecursionError:
        return _parse_failed(*too_deep)
    except READ_ERRORS as exc:
        if _from_recursion(exc):  # pyHanko re-raises some as a read error
            return _parse_failed(*too_deep)
        return _parse_failed(f"the PDF cannot be read: {exc}", "malformed")
    return Check("parse", Outcome.PASSED, "the file is a readable PDF"), reader


def long_term_validation(
    sig: EmbeddedPdfSignature, trust: TrustBundle, now: datetime
) -> AdESLTAValidationResult:
    """One PAdES-LTA validation (ETSI EN 319 102-1, 5.6.3) at ``now``, from the file alone.

    Its ``api_status`` also carries the cryptographic verdict, the signature
    timestamp and the diff analysis, so the integrity, trust and timestamp
    rules read it rather than validate everything a second time (which
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


def per_part_validation(
    sig: EmbeddedPdfSignature, reader: PdfFileReader, trust: TrustBundle
) -> PdfSignatureStatus:
    """pyHanko's signature, chain, timestamp and diff verdicts, each made on its own.

    A failed LTA run stops at the first problem it meets (a broken digest
    leaves the chain and the timestamp unexamined), so a failing document gets
    this too, and its report says all that is wrong. A file with no DSS (a
    PAdES B-B or B-T signature from another tool) is still validated, from
    what its signature carries: whether it is intact does not depend on the
    agency's long-term data.
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
        # No revocation data to require: the trust rules still refuse such a
        # file (it fails long-term validation), but its integrity gets an answer.
        context = ValidationContext(**{**options, "revocation_mode": "soft-fail"})
    return validate_pdf_signature(
        sig, signer_validation_context=context, ts_validation_context=context
    )


def xmp_fields(reader: PdfFileReader, revision: int) -> dict[str, str]:
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
            # pyHanko rewrites the packet when it signs, and writes a value that
            # looks like a URI as ``rdf:resource``: the QR payload, often.
            value = element.get(RDF_RESOURCE) or element.text or ""
            found[element.tag[len(prefix) :]] = value.strip()
    return found


def examine(pdf: bytes, reader: PdfFileReader, trust: TrustBundle, now: datetime) -> Evidence:
    """Validate the one approval signature and read what the signed revision claims."""
    approvals = tuple(s for s in reader.embedded_signatures if s.sig_object_type == "/Sig")
    evidence = Evidence(pdf=pdf, reader=reader, trust=trust, now=now, approvals=approvals)
    sig = evidence.signature
    if sig is None:
        return evidence
    lta: AdESLTAValidationResult | None = None
    validation: PdfSignatureStatus | None = None
    failed = False
    try:
        lta = long_term_validation(sig, trust, now)
        validation = (
            lta.api_status
            if lta.ades_subindic is AdESPassed.OK
            else per_part_validation(sig, reader, trust)
        )
    except Exception:  # the file breaks the rules where pyHanko validates it
        log.debug("validation raised", exc_info=True)
        failed = True
    try:
        signer: x509.Certificate | None = x509.load_der_x509_certificate(sig.signer_cert.dump())
    except Exception:  # no certificate, or one cryptography cannot read
        signer = None
    try:
        fields: dict[str, str] = xmp_fields(reader, sig.signed_revision)
    except Exception:  # unreadable metadata claims nothing
        fields = {}
    qr: QrClaims | QrError | None = None
    if fields.get("qrPayload"):
        try:
            qr = decode_qr_payload(fields["qrPayload"], trust.qr_keys)
        except QrError as exc:
            qr = exc
    return replace(
        evidence,
        lta=lta,
        validation=validation,
        validation_error=failed,
        signer_cert=signer,
        fields=fields,
        qr=qr,
    )


def consult(evidence: Evidence, status: StatusSource | None, claims: QrClaims | None) -> Evidence:
    """Ask the register about the certificate the signed document names.

    ``claims`` are the QR payload's, only when the ``qr_payload`` rule passed.
    """
    if status is None:
        return evidence
    if not evidence.number:
        return replace(evidence, consulted=True)
    try:
        answer = status.lookup(evidence.number, evidence.digests, claims)
    except Exception:  # a status source that breaks has not answered
        log.debug("status lookup raised", exc_info=True)
        return replace(evidence, consulted=True, lookup_error=True)
    return replace(evidence, consulted=True, answer=answer)
