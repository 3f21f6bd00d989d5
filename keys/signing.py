"""PAdES baseline B-LTA signing, and LTA refresh of signed documents.

What a signature carries: a CAdES-detached CMS with signing-certificate-v2; a
signature timestamp; a DSS with the chain and OCSP responses and CRLs for
every certificate, the TSA's included; and a document timestamp over the whole
file. All validation data is produced in-process from the PKI, so signing
makes no HTTP call (not even to ourselves).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO

from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator import ValidationContext

from .errors import SigningFailed, TimestampUnavailable
from .pki import Pki
from .revocation import current_crl, ocsp_for
from .stores import FileKeyStore, KeyStore, to_asn1
from .tsa import AgencyTimeStamper

FIELD_NAME = "AgencySignature"


class _FetchingDisabledNotice(logging.Filter):
    """pyHanko warns on every signature that fetching is off; for us that is the design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


_SIGNER_LOGGER = "pyhanko.sign.signers.pdf_signer"


def quiet_fetching_notice() -> None:
    """Drop pyHanko's "fetching is not allowed" warning, logged on every signature.

    For the entry points that sign (the registry's app factory and CLI, the
    benchmarks); never called at import. Idempotent; other records of that
    logger still pass.
    """
    logger = logging.getLogger(_SIGNER_LOGGER)
    if not any(isinstance(f, _FetchingDisabledNotice) for f in logger.filters):
        logger.addFilter(_FetchingDisabledNotice())


@dataclass
class RevocationData:
    """CRLs and OCSP responses reused across signatures until they near expiry."""

    crls: list[bytes]
    ocsps: list[bytes]
    good_until: datetime


@dataclass
class DocumentSigner:
    """Everything needed to sign, built once per process and reused."""

    pki: Pki
    cert: x509.Certificate
    signer: Signer
    timestamper: TimeStamper
    key_store: str
    _revocation: RevocationData | None = field(default=None, repr=False)
    _context: tuple[RevocationData, ValidationContext] | None = field(default=None, repr=False)

    def revocation_data(self, now: datetime) -> RevocationData:
        cached = self._revocation
        if cached is None or now >= cached.good_until:
            pki = self.pki
            subjects = [self.cert]
            if isinstance(self.timestamper, AgencyTimeStamper):
                subjects.append(pki.tsa)
            answers = [ocsp_for(pki, cert, now) for cert in subjects]
            cached = RevocationData(
                crls=[current_crl(pki, "root", now), current_crl(pki, "issuing", now)],
                ocsps=[a.der for a in answers],
                good_until=min(a.next_update for a in answers) - timedelta(hours=1),
            )
            self._revocation = cached
        return cached

    def validation_context(self, now: datetime) -> ValidationContext:
        """One context per batch of revocation data: its validated paths are reused."""
        data = self.revocation_data(now)
        if self._context is not None and self._context[0] is data:
            return self._context[1]
        pki = self.pki
        context = ValidationContext(
            trust_roots=[to_asn1(pki.root)],
            other_certs=[to_asn1(c) for c in (pki.issuing, pki.tsa, pki.ocsp)],
            crls=data.crls,
            ocsps=data.ocsps,
            allow_fetching=False,
            revocation_mode="hard-fail",
        )
        self._context = (data, context)
        return context


def open_document_signer(
    pki: Pki, *, key_store: KeyStore | None = None, tsa_url: str | None = None
) -> DocumentSigner:
    """The current signing certificate with its key, and the timestamper to use."""
    store = key_store or FileKeyStore()
    cert = pki.signing_cert
    timestamper: TimeStamper = (
        HTTPTimeStamper(tsa_url, timeout=10) if tsa_url else AgencyTimeStamper(pki)
    )
    return DocumentSigner(
        pki=pki,
        cert=cert,
        signer=store.signer(pki, cert),
        timestamper=timestamper,
        key_store=store.name,
    )


def sign_pdf(
    pdf_bytes: bytes,
    signer: DocumentSigner,
    *,
    now: datetime | None = None,
    reason: str | None = None,
    location: str | None = None,
) -> bytes:
    """Sign ``pdf_bytes`` as PAdES B-LTA; refuse an expired or revoked certificate."""
    now = now or datetime.now(UTC)
    signer.pki.check_usable(signer.cert, now, "document-signing")
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=True,
        use_pades_lta=True,
        validation_context=signer.validation_context(now),
        reason=reason,
        location=location,
    )
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
        output = signers.PdfSigner(
            meta, signer=signer.signer, timestamper=signer.timestamper
        ).sign_pdf(writer)
    except TimestampRequestError as exc:
        raise TimestampUnavailable(f"the time-stamping authority did not answer: {exc}") from exc
    except (SigningError, PdfError, ValueError) as exc:
        raise SigningFailed(f"the PDF could not be signed: {exc}") from exc
    return output.getvalue()


def refresh_lta(pdf_bytes: bytes, signer: DocumentSigner, *, now: datetime | None = None) -> bytes:
    """Add validation data and a fresh document timestamp (an LTA update).

    Run it before the chain of the document's last timestamp runs out; the
    new timestamp's chain then carries the document forward.
    """
    now = now or datetime.now(UTC)
    stream = BytesIO(pdf_bytes)
    try:
        reader = PdfFileReader(stream, strict=False)
        signers.PdfTimeStamper(signer.timestamper).update_archival_timestamp_chain(
            reader, signer.validation_context(now), in_place=True
        )
    except TimestampRequestError as exc:
        raise TimestampUnavailable(f"the time-stamping authority did not answer: {exc}") from exc
    except (SigningError, PdfError, ValueError) as exc:
        raise SigningFailed(f"the LTA update failed: {exc}") from exc
    return stream.getvalue()


def timestamp_chain_end(pdf_bytes: bytes, known: list[x509.Certificate]) -> datetime | None:
    """When the chain of the document's last timestamp stops being valid.

    That is the earliest expiry among the TSA certificate and the CAs above it
    (looked up in ``known``). None when the file has no document timestamp.
    """
    reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
    stamps = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
    if not stamps:
        return None
    tsa = x509.load_der_x509_certificate(stamps[-1].signer_cert.dump())
    end = tsa.not_valid_after_utc
    by_subject = {c.subject: c for c in known}
    issuer = by_subject.get(tsa.issuer)
    while issuer is not None:
        end = min(end, issuer.not_valid_after_utc)
        if issuer.issuer == issuer.subject:
            break
        issuer = by_subject.get(issuer.issuer)
    return end
