"""PAdES B-LTA signatures, checked by pyHanko and by poppler's pdfsig, now and years ahead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import SignatureCoverageLevel

from keys.errors import CertificateNotUsable, SigningFailed
from keys.pki import DOCUMENT_SIGNING
from keys.revocation import current_crl, ocsp_for
from keys.signing import open_document_signer, refresh_lta, sign_pdf

from ..conftest import years
from ..documents import blank_pdf
from .validation import ades_lta, pdfsig, validate_with_dss

ELEVEN_YEARS = timedelta(days=365 * 11)


def dss_refs(reader: PdfFileReader) -> set[generic.Reference]:
    """Every indirect object reachable from the catalog's /DSS."""
    seen: set[generic.Reference] = set()

    def walk(obj: generic.PdfObject) -> None:
        if isinstance(obj, generic.IndirectObject):
            if obj.reference in seen:
                return
            seen.add(obj.reference)
            obj = obj.get_object()
        if isinstance(obj, generic.DictionaryObject):
            for value in obj.values():
                walk(value)
        elif isinstance(obj, generic.ArrayObject):
            for value in obj:
                walk(value)

    walk(reader.root.raw_get("/DSS"))
    return seen


def test_signature_is_b_lta_and_trusted_by_pyhanko(signed_pdf, shared_pki):
    result = validate_with_dss(signed_pdf, shared_pki.root)
    status = result.signature
    assert status.intact and status.valid and status.trusted
    assert status.bottom_line
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.valid and status.timestamp_validity.trusted
    assert status.coverage is SignatureCoverageLevel.ENTIRE_REVISION
    assert status.modification_level is ModificationLevel.LTA_UPDATES
    assert [ts.valid and ts.trusted for ts in result.timestamps] == [True]
    # CAdES detached with signing-certificate-v2 (PAdES baseline).
    signed_attrs = status.signer_reported_dt is not None
    assert signed_attrs
    dss = result.dss
    assert len(list(dss.load_certs())) >= 4
    assert dss.ocsps and dss.crls


def test_after_the_signature_only_lta_material_was_added(signed_pdf):
    reader = PdfFileReader(BytesIO(signed_pdf))
    approval, stamp = reader.embedded_signatures
    assert approval.sig_object_type == "/Sig"
    assert stamp.sig_object_type == "/DocTimeStamp"
    assert stamp.signed_revision > approval.signed_revision
    last = reader.xrefs.total_revisions - 1
    assert last == stamp.signed_revision + 1, "pyHanko ends B-LTA with a DSS-only revision"
    allowed = dss_refs(reader) | {reader.root_ref}
    metadata = reader.root.raw_get("/Metadata")
    if isinstance(metadata, generic.IndirectObject):
        allowed.add(metadata.reference)
    changed = reader.xrefs.explicit_refs_in_revision(last)
    assert changed <= allowed, f"unexpected objects in the last revision: {changed - allowed}"


def test_signing_certificate_profile(shared_pki):
    cert = shared_pki.signing_cert
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert DOCUMENT_SIGNING in eku
    assert x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value.endswith("/pki/issuing.crl")
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert any(d.access_location.value.endswith("/pki/ocsp") for d in aia)
    tsa_eku = shared_pki.tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert tsa_eku.critical and list(tsa_eku.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]
    shared_pki.ocsp.extensions.get_extension_for_class(x509.OCSPNoCheck)
    assert x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING in (
        shared_pki.ocsp.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )


def test_validity_periods_cover_ten_years_of_verification(shared_pki):
    ten_years = datetime.now(UTC) + timedelta(days=365 * 10 + 30)
    for cert in (shared_pki.root, shared_pki.issuing, shared_pki.tsa):
        assert cert.not_valid_after_utc > ten_years
    assert shared_pki.root.not_valid_after_utc > shared_pki.issuing.not_valid_after_utc
    assert shared_pki.issuing.not_valid_after_utc >= shared_pki.tsa.not_valid_after_utc


def test_long_term_validation_now_in_three_and_in_ten_years(signed_pdf, shared_pki):
    indication, signed_at = ades_lta(signed_pdf, shared_pki.root)
    assert indication is AdESPassed.OK
    assert signed_at is not None and abs(signed_at - datetime.now(UTC)) < timedelta(minutes=10)
    # By +3 years the 3-year signer certificate has expired; by +10 the OCSP responder too.
    assert shared_pki.signing_cert.not_valid_after_utc < years(3.01)
    for ahead in (3.01, 10):
        indication, best = ades_lta(signed_pdf, shared_pki.root, years(ahead), ELEVEN_YEARS)
        assert indication is AdESPassed.OK, f"+{ahead} years: {indication}"
        assert best is not None and best < datetime.now(UTC) + timedelta(minutes=10)


def test_long_term_validation_fails_once_the_timestamp_chain_has_expired(signed_pdf, shared_pki):
    indication, _ = ades_lta(signed_pdf, shared_pki.root, years(16), timedelta(days=365 * 17))
    assert indication is not AdESPassed.OK


@pytest.mark.parametrize("algorithm", ["ec-p256", "rsa-3072"])
def test_both_algorithms_sign_and_validate(make_pki, algorithm):
    pki = make_pki(algorithm)
    pdf = sign_pdf(blank_pdf(), open_document_signer(pki))
    status = validate_with_dss(pdf, pki.root).signature
    assert status.bottom_line
    assert status.md_algorithm == "sha256"
    expected = "ecdsa" if algorithm == "ec-p256" else "rsa"
    assert expected in status.pkcs7_signature_mechanism


def test_pdfsig_reports_valid_and_trusted(signed_pdf, shared_pki, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_pdf)
    output = pdfsig(path, shared_pki.root, tmp_path / "nss")
    approval = output.split("Signature #2")[0]
    assert "Signature is Valid." in approval
    assert "Certificate is Trusted." in approval
    assert "Signature #2" in output  # the document timestamp, listed by poppler


def test_refresh_lta_adds_a_document_timestamp_that_validates(
    signed_pdf, shared_pki, shared_signer
):
    refreshed = refresh_lta(signed_pdf, shared_signer)
    assert refreshed.startswith(signed_pdf), "an LTA update only appends"
    reader = PdfFileReader(BytesIO(refreshed))
    stamps = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
    assert len(stamps) == 2
    result = validate_with_dss(refreshed, shared_pki.root)
    assert result.signature.bottom_line
    assert all(ts.valid and ts.trusted for ts in result.timestamps)
    indication, _ = ades_lta(refreshed, shared_pki.root, years(10), ELEVEN_YEARS)
    assert indication is AdESPassed.OK


def test_rotation_keeps_older_documents_valid(make_pki):
    pki = make_pki()
    before = sign_pdf(blank_pdf("before"), open_document_signer(pki))
    old_serial = pki.current_signer
    new_cert = pki.issue_signer(datetime.now(UTC))
    assert new_cert.serial_number != old_serial
    after = sign_pdf(blank_pdf("after"), open_document_signer(pki))
    for pdf in (before, after):
        assert validate_with_dss(pdf, pki.root).signature.bottom_line
    signer_of = {
        pdf: PdfFileReader(BytesIO(pdf)).embedded_signatures[0].signer_cert.serial_number
        for pdf in (before, after)
    }
    assert signer_of[before] == old_serial
    assert signer_of[after] == new_cert.serial_number


def test_revocation_fails_later_signatures_and_keeps_earlier_ones(make_pki):
    pki = make_pki()
    signer = open_document_signer(pki)
    earlier = sign_pdf(blank_pdf("earlier"), signer)
    revoked_at = datetime.now(UTC) + timedelta(seconds=1)
    pki.revoke(pki.current_signer, "key_compromise", revoked_at)

    with pytest.raises(CertificateNotUsable, match="revoked"):
        sign_pdf(blank_pdf("refused"), signer, now=revoked_at + timedelta(seconds=5))

    # Forge what the agency refuses to make: a signature after the revocation.
    later_time = revoked_at + timedelta(seconds=5)
    signer._revocation = None
    pki.revocations.clear()
    later = sign_pdf(blank_pdf("later"), signer, now=later_time)
    pki.revoke(pki.current_signer, "key_compromise", revoked_at)

    now = later_time + timedelta(minutes=1)
    crl = current_crl(pki, "issuing", now)
    ocsp = ocsp_for(pki, pki.signing_cert, now).der
    late = validate_with_dss(later, pki.root, crls=(crl,), ocsps=(ocsp,), moment=now).signature
    assert not late.bottom_line
    assert late.revoked or not late.trusted
    indication, _ = ades_lta(earlier, pki.root)
    assert indication is AdESPassed.OK


def test_an_expired_signing_certificate_is_refused(make_pki):
    pki = make_pki()
    signer = open_document_signer(pki)
    with pytest.raises(CertificateNotUsable, match="expired"):
        sign_pdf(blank_pdf(), signer, now=years(3.1))


@pytest.mark.parametrize("data", [b"", b"not a pdf at all", b"%PDF-1.7\n%%EOF"])
def test_garbage_is_not_signed(shared_signer, data):
    with pytest.raises(SigningFailed):
        sign_pdf(data, shared_signer)
