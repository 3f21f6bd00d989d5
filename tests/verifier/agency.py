"""Agency certificates made with ``keys/`` and the verifier alone, with no registry instance.

The verifier must be testable where no register exists: a PKI from
``keys.pki``, a one-page PDF carrying the XMP fields and the signed QR payload
an issued certificate carries, PAdES B-LTA signed by ``keys.signing`` with the
agency's own TSA, and a signed status list for the offline status source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from xml.sax.saxutils import escape

from fpdf import FPDF
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper

from keys.pki import Pki
from keys.signing import DocumentSigner, sign_pdf
from verifier.qr import QrClaims, encode_qr_payload
from verifier.report import CertificateStatus
from verifier.sources import OfflineStatusSource, TrustBundle
from verifier.status_list import decode_status_list, encode_status_list

PUBLIC_URL = "https://registry.example.go.th"
NUMBER = "TESTING-0001/R1"


def claims(**changes: object) -> QrClaims:
    base = QrClaims(
        issuer=PUBLIC_URL,
        certificate_number=NUMBER,
        revision=1,
        accreditation_number="TESTING-0001",
        cab_name="Example Testing Laboratory",
        standard="ISO/IEC 17025:2017",
        valid_until=date.today() + timedelta(days=365),
        scope_digest=bytes(16),
        status_list_index=3,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def qr_url(pki: Pki, qr: QrClaims | None = None) -> str:
    return encode_qr_payload(qr or claims(), pki.qr_signing_jwk(), PUBLIC_URL)


def unsigned_certificate(xmp: Mapping[str, str]) -> bytes:
    """A one-page PDF whose XMP carries ``xmp`` in the agency's namespace."""
    props = "\n".join(f"<accredit:{k}>{escape(v)}</accredit:{k}>" for k, v in xmp.items())
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=14)
    doc.cell(text="Certificate of Accreditation")
    doc.set_xmp_metadata(
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:accredit="urn:accredit:certificate:1">'
        f"{props}</rdf:Description></rdf:RDF>"
    )
    return bytes(doc.output())


def fields_for(pki: Pki, qr: QrClaims | None = None) -> dict[str, str]:
    qr = qr or claims()
    return {
        "certificateNumber": qr.certificate_number,
        "accreditationNumber": qr.accreditation_number,
        "revision": str(qr.revision),
        "qrPayload": qr_url(pki, qr),
        "scopeDigest": qr.scope_digest.hex(),
    }


def certificate(signer: DocumentSigner, xmp: Mapping[str, str] | None = None) -> bytes:
    """A certificate as issuance makes it: B-LTA, by the agency, with its QR payload."""
    return sign_pdf(unsigned_certificate(fields_for(signer.pki) if xmp is None else xmp), signer)


def signed_without_lta(
    signer: DocumentSigner, timestamper: TimeStamper | None, xmp: Mapping[str, str] | None = None
) -> bytes:
    """Signed with the agency's key, as B-B (no timestamper) or B-T, with no DSS."""
    pdf = unsigned_certificate(fields_for(signer.pki) if xmp is None else xmp)
    meta = signers.PdfSignatureMetadata(
        field_name="Signature", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )
    out = signers.PdfSigner(meta, signer=signer.signer, timestamper=timestamper).sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    )
    return out.getvalue()


def trust(pki: Pki) -> TrustBundle:
    return TrustBundle((pki.root,), pki.qr_jwks())


def offline(
    pki: Pki,
    statuses: Mapping[int, CertificateStatus],
    *,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> OfflineStatusSource:
    """The offline status source over a status list signed with the agency's QR key."""
    data = encode_status_list(
        statuses, PUBLIC_URL, as_of or datetime.now(UTC), pki.qr_signing_jwk()
    )
    return OfflineStatusSource(decode_status_list(data, pki.qr_jwks()), now=now)
