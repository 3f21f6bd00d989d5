"""Verification results: each check's facts, and verdicts derived from them.

A ``Report`` never stores a verdict that could disagree with its checks: the
document, status and overall verdicts are properties computed from the checks.
Failure is the default: a check that did not run, or did not pass, never
counts towards "authentic".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    #: Could not be decided (for example, no status source): never shown as green.
    INDETERMINATE = "indeterminate"


class CertificateStatus(StrEnum):
    """The status axis of a certificate document. Codes are frozen once published."""

    CURRENT = "current"
    SUPERSEDED = "superseded"
    SUSPENDED = "suspended"
    PARTIALLY_SUSPENDED = "partially_suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class DocumentVerdict(StrEnum):
    AUTHENTIC = "authentic"
    MODIFIED = "modified"
    FORGED = "forged"
    UNTRUSTED = "untrusted"
    UNSIGNED = "unsigned"
    UNREADABLE = "unreadable"


class Verdict(StrEnum):
    VALID = "valid"
    NOT_CURRENT = "not_current"
    NOT_AUTHENTIC = "not_authentic"
    UNREADABLE = "unreadable"


#: Stable check names, in the order they run. Other tools read these.
CHECK_NAMES = (
    "parse",
    "signature_integrity",
    "signer_trusted",
    "signer_role",
    "signature_timestamp",
    "unmodified_after_signing",
    "long_term_validation",
    "registry_binding",
    "qr_payload",
    "status",
    "public_log",
)
#: Codes of a signature that is there but could not be checked.
UNCHECKED_SIGNATURE = frozenset({"extra_signature", "not_validated", "error", "time_budget"})
#: Checks that must pass for a document to be authentic. The binding is the
#: register's record when it answers, the signed QR payload only when it cannot.
INTEGRITY_CHECKS = (
    "parse",
    "signature_integrity",
    "signer_trusted",
    "signer_role",
    "signature_timestamp",
    "unmodified_after_signing",
    "long_term_validation",
)


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    #: A sentence for a person: why it passed or failed.
    detail: str
    #: A stable machine code for the reason (``ok`` when passed).
    code: str = "ok"

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "outcome": self.outcome.value,
            "code": self.code,
            "detail": self.detail,
        }


class Integrity(StrEnum):
    """The first headline line: can the file be read, and is it as it was signed?"""

    UNREADABLE = "unreadable"
    UNSIGNED = "unsigned"
    #: The signature does not match the bytes it covers.
    ALTERED = "altered"
    #: The signature is intact, but something was added or changed after it.
    CHANGED_AFTER_SIGNING = "changed_after_signing"
    #: Signed, but the signature could not be checked (several signatures, or one
    #: pyHanko cannot validate): neither "intact" nor "altered" would be true.
    NOT_CHECKED = "not_checked"
    INTACT = "intact"


class Issuer(StrEnum):
    """The second headline line: is this the agency's certificate, as it issued it?"""

    AGENCY = "agency"
    #: The agency signed the original; this copy was changed after (offer the original).
    CHANGED_COPY = "changed_copy"
    NOT_AGENCY = "not_agency"
    #: Signed with the agency's key, but the register recorded no such file.
    NOT_RECORDED = "not_recorded"
    #: The public log contradicts the file or the register.
    NOT_IN_PUBLIC_LOG = "not_in_public_log"
    NOT_SHOWN = "not_shown"


class StatusLine(StrEnum):
    """The third headline line: what the register says now."""

    CURRENT = "current"
    NOT_CURRENT = "not_current"
    #: The register could not be asked (offline, unreachable): "as of" a list, or unknown.
    UNCONFIRMED = "unconfirmed"
    #: Status is never shown for a document that is not authentic.
    NOT_FOR_THIS_FILE = "not_for_this_file"


@dataclass(frozen=True)
class Headline:
    """Three lines derived from the checks alone, so they can never disagree with them."""

    integrity: Integrity
    issuer: Issuer
    status: StatusLine

    def as_json(self) -> dict[str, str]:
        return {"integrity": self.integrity, "issuer": self.issuer, "status": self.status}


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]
    certificate_number: str | None = None
    revision: int | None = None
    signer: str | None = None
    #: When the signature existed, as proven by its timestamp.
    signed_at: datetime | None = None
    #: Where the status came from and when: ``live``, or ``as of`` a list date.
    status_source: str | None = None
    status_as_of: datetime | None = None
    reported_status: CertificateStatus | None = None
    filename: str | None = None
    #: The length of the signed revision: ``pdf[:signed_length]`` is what was signed.
    signed_length: int | None = None

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def _passed(self, name: str) -> bool:
        found = self.check(name)
        return found is not None and found.passed

    def _failed_code(self, name: str) -> str | None:
        found = self.check(name)
        return None if found is None or found.passed else found.code

    @property
    def document(self) -> DocumentVerdict:
        if not self._passed("parse"):
            return DocumentVerdict.UNREADABLE
        if self._failed_code("signature_integrity") == "unsigned":
            return DocumentVerdict.UNSIGNED
        if self._failed_code("signature_integrity") in UNCHECKED_SIGNATURE:
            # Signed, but not checkable: not shown to be the agency's, not shown altered.
            return DocumentVerdict.UNTRUSTED
        if not self._passed("signature_integrity") or not self._passed("unmodified_after_signing"):
            return DocumentVerdict.MODIFIED
        if self._failed_code("signer_trusted") == "untrusted_signer":
            # Intact and signed, by someone else: the truth is "not the agency's".
            return DocumentVerdict.UNTRUSTED
        if not self._passed("signer_role") or self._failed_code("qr_payload") in (
            "qr_bad_signature",
            "qr_unknown_key",
            "qr_mismatch",
        ):
            return DocumentVerdict.FORGED
        if not all(self._passed(name) for name in INTEGRITY_CHECKS):
            return DocumentVerdict.UNTRUSTED
        binding = self.check("registry_binding")
        if binding is not None and binding.outcome is Outcome.FAILED:
            # The register answered and did not record this file (DESIGN §4, rule 4):
            # a valid agency signature and QR do not make up for it.
            return DocumentVerdict.UNTRUSTED
        if not (self._passed("registry_binding") or self._passed("qr_payload")):
            # The QR payload binds on its own only when no register could be asked.
            return DocumentVerdict.UNTRUSTED
        logged = self.check("public_log")
        if logged is not None and logged.outcome is Outcome.FAILED:
            # The log contradicts the register or the file: believe neither.
            return DocumentVerdict.UNTRUSTED
        return DocumentVerdict.AUTHENTIC

    @property
    def headline(self) -> Headline:
        """The three lines a person reads first, from the same checks as the list."""
        return Headline(self._integrity(), self._issuer(), self._status_line())

    def _integrity(self) -> Integrity:
        if not self._passed("parse"):
            return Integrity.UNREADABLE
        if self._failed_code("signature_integrity") == "unsigned":
            return Integrity.UNSIGNED
        if self._failed_code("signature_integrity") in UNCHECKED_SIGNATURE:
            return Integrity.NOT_CHECKED
        if not self._passed("signature_integrity"):
            return Integrity.ALTERED
        if not self._passed("unmodified_after_signing"):
            return Integrity.CHANGED_AFTER_SIGNING
        return Integrity.INTACT

    def _issuer(self) -> Issuer:
        document = self.document
        if document is DocumentVerdict.AUTHENTIC:
            return Issuer.AGENCY
        if document is DocumentVerdict.UNREADABLE or document is DocumentVerdict.UNSIGNED:
            return Issuer.NOT_SHOWN
        agency_signed = self._passed("signer_trusted") and self._passed("signer_role")
        if agency_signed and self._integrity() is Integrity.CHANGED_AFTER_SIGNING:
            return Issuer.CHANGED_COPY
        if self._failed_code("signer_trusted") == "untrusted_signer" or (
            self._passed("signer_trusted") and not self._passed("signer_role")
        ):
            return Issuer.NOT_AGENCY
        binding = self.check("registry_binding")
        if binding is not None and binding.outcome is Outcome.FAILED:
            return Issuer.NOT_RECORDED
        logged = self.check("public_log")
        if logged is not None and logged.outcome is Outcome.FAILED:
            return Issuer.NOT_IN_PUBLIC_LOG
        return Issuer.NOT_SHOWN

    def _status_line(self) -> StatusLine:
        if self.document is not DocumentVerdict.AUTHENTIC:
            return StatusLine.NOT_FOR_THIS_FILE
        if self.status is CertificateStatus.CURRENT:
            return StatusLine.CURRENT
        if self.status is CertificateStatus.UNKNOWN:
            return StatusLine.UNCONFIRMED
        return StatusLine.NOT_CURRENT

    @property
    def status(self) -> CertificateStatus:
        """The register's answer, shown only for an authentic document."""
        if self.document is not DocumentVerdict.AUTHENTIC:
            return CertificateStatus.UNKNOWN
        return self.reported_status or CertificateStatus.UNKNOWN

    @property
    def verdict(self) -> Verdict:
        document = self.document
        if document is DocumentVerdict.UNREADABLE:
            return Verdict.UNREADABLE
        if document is not DocumentVerdict.AUTHENTIC:
            return Verdict.NOT_AUTHENTIC
        if self.status is CertificateStatus.CURRENT:
            return Verdict.VALID
        return Verdict.NOT_CURRENT

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.outcome is Outcome.FAILED]

    @property
    def undecided(self) -> list[Check]:
        """Checks that could not be decided: shown as such, never as passed."""
        return [c for c in self.checks if c.outcome is Outcome.INDETERMINATE]

    def summary(self) -> str:
        """One line: the verdict and every check that did not pass."""
        reasons = "; ".join(f"{c.name}: {c.detail}" for c in self.failed + self.undecided)
        head = f"{self.verdict.value} ({self.document.value}, {self.status.value})"
        return f"{head} - {reasons}" if reasons else head

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.filename,
            "verdict": self.verdict.value,
            "document": self.document.value,
            "status": self.status.value,
            "certificate_number": self.certificate_number,
            "revision": self.revision,
            "signer": self.signer,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "status_source": self.status_source,
            "status_as_of": self.status_as_of.isoformat() if self.status_as_of else None,
            "headline": self.headline.as_json(),
            "checks": [c.as_json() for c in self.checks],
        }
