"""The project's own attack suite: genuine certificates pass, every alteration is refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fpdf import FPDF
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from keys.stores import LoadedKeySigner
from registry.acts.decisions import record
from registry.certificates.issuance import find_accreditation, issue
from registry.changes import DEVELOPMENT
from registry.pki.material import forget, get_document_signer, get_pki, log_key, publish_log
from registry.register.status import EventKind
from registry.verification.source import RegistryStatusSource
from registry.web import current
from verifier.policy import verify
from verifier.report import CHECK_NAMES, DocumentVerdict, Verdict
from verifier.sources import TrustBundle

from ..documents import blank_pdf, demo_instance, rolled_back, valid_numbers
from ..registry import factories

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return demo_instance(
        tmp_path_factory.mktemp("verify"), 40, PUBLIC_URL="https://registry.example.go.th"
    )


@pytest.fixture(scope="module")
def trust(app) -> TrustBundle:
    pki = get_pki(app)
    return TrustBundle((pki.root,), pki.qr_jwks())


@pytest.fixture(scope="module")
def source(app) -> RegistryStatusSource:
    vkey = log_key(current.settings(app), get_pki(app)).verifier.vkey()
    return RegistryStatusSource(current.database(app).session, log_vkey=vkey)


def issue_pdf(app, number: str) -> bytes:
    with current.database(app).transaction() as session:
        pdf = issue(
            session,
            find_accreditation(session, number),
            get_document_signer(app),
            current.settings(app),
            actor=DEVELOPMENT,
        ).pdf
    publish_log(current.settings(app), current.database(app))
    return pdf


@pytest.fixture(scope="module")
def genuine(app) -> bytes:
    return issue_pdf(app, "Testing-0002")


def incremental(pdf: bytes, change) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    change(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def failed(report) -> dict[str, str]:
    return {c.name: c.code for c in report.checks if not c.passed}


def test_a_genuine_certificate_is_valid(genuine, trust, source):
    report = verify(genuine, trust, source)
    assert [c.name for c in report.checks] == list(CHECK_NAMES)
    assert report.verdict is Verdict.VALID, report.summary()
    assert report.document is DocumentVerdict.AUTHENTIC
    assert report.status.value == "current"
    assert report.certificate_number == "Testing-0002/R1"
    assert report.signed_at is not None
    assert abs(report.signed_at - datetime.now(UTC)) < timedelta(minutes=30)
    assert all(c.passed for c in report.checks)


def test_genuine_offline_is_authentic_with_status_unknown(genuine, trust):
    report = verify(genuine, trust, None)
    assert report.document is DocumentVerdict.AUTHENTIC
    assert report.status.value == "unknown"
    assert report.verdict is Verdict.NOT_CURRENT
    assert report.check("status").outcome.value == "indeterminate"


def test_ten_years_ahead_still_authentic(genuine, trust):
    report = verify(genuine, trust, None, now=NOW + timedelta(days=3650))
    assert report.check("long_term_validation").passed, report.summary()
    assert report.document is DocumentVerdict.AUTHENTIC


def test_superseded_revision_is_authentic_and_superseded(app, trust, source):
    first = issue_pdf(app, "Testing-0003")
    issue_pdf(app, "Testing-0003")
    report = verify(first, trust, source)
    assert report.document is DocumentVerdict.AUTHENTIC
    assert report.status.value == "superseded"
    assert report.verdict is Verdict.NOT_CURRENT


def test_documents_signed_before_a_key_rotation_keep_verifying(app, trust, source):
    before = issue_pdf(app, "Testing-0004")
    get_pki(app).issue_signer(datetime.now(UTC))
    forget(app)
    assert verify(before, trust, source).verdict is Verdict.VALID


def add_page_content(writer: IncrementalPdfFileWriter) -> None:
    stream = generic.StreamObject(stream_data=b"BT /F1 40 Tf 100 500 Td (VALID TO 2099) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(stream))


def edit_info(writer: IncrementalPdfFileWriter) -> None:
    info = writer.trailer["/Info"]
    info["/Title"] = generic.TextStringObject("Certificate of Accreditation, extended")
    writer.mark_update(writer.trailer.raw_get("/Info"))


def add_annotation(writer: IncrementalPdfFileWriter) -> None:
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0).reference
    page = writer.get_object(page_ref)
    annot = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.FloatObject(v) for v in (100, 600, 400, 650)]
                ),
                generic.NameObject("/Contents"): generic.TextStringObject("Valid until 2099"),
            }
        )
    )
    annots = page.get("/Annots", generic.ArrayObject())
    annots.append(annot)
    page[generic.NameObject("/Annots")] = annots
    writer.update_container(page)


@pytest.mark.parametrize(
    ("name", "change", "code"),
    [
        ("page content", add_page_content, "content_changed"),
        ("info only", edit_info, "info_edited"),
        ("annotation", add_annotation, None),
    ],
)
def test_incremental_updates_are_refused(genuine, trust, source, name, change, code):
    altered = incremental(genuine, change)
    report = verify(altered, trust, source)
    assert report.document is DocumentVerdict.MODIFIED, (name, report.summary())
    assert "unmodified_after_signing" in failed(report)
    if code:
        assert failed(report)["unmodified_after_signing"] in (code, "modified")


def test_empty_incremental_update(genuine, trust):
    start = genuine.rstrip().rfind(b"startxref")
    prev = int(genuine[start:].split()[1])
    size = int(re.findall(rb"/Size (\d+)", genuine)[-1])
    root = re.findall(rb"/Root (\d+ \d+ R)", genuine)[-1]
    xref_at = len(genuine) + 1
    tail = (
        b"\nxref\n0 0\ntrailer\n<< /Size "
        + str(size).encode()
        + b" /Root "
        + root
        + b" /Prev "
        + str(prev).encode()
        + b" >>\nstartxref\n"
        + str(xref_at).encode()
        + b"\n%%EOF\n"
    )
    report = verify(genuine + tail, trust)
    assert report.document is not DocumentVerdict.AUTHENTIC, report.summary()


def test_bytes_after_eof(genuine, trust):
    report = verify(genuine + b"<script>alert(1)</script>\n", trust)
    assert failed(report)["unmodified_after_signing"] == "trailing_data"
    assert report.document is DocumentVerdict.MODIFIED


def test_second_signature_by_a_self_made_key_with_the_agency_name(genuine, trust, source):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Thai Industrial Standards Institute"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Document Signing"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    forger = LoadedKeySigner(key, cert, [])
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(genuine)),
        signers.PdfSignatureMetadata(field_name="Second", subfilter=fields.SigSeedSubFilter.PADES),
        signer=forger,
    )
    report = verify(out.getvalue(), trust, source)
    assert report.document is not DocumentVerdict.AUTHENTIC
    assert failed(report)["signature_integrity"] == "extra_signature"


def test_one_flipped_byte_inside_the_signed_range(genuine, trust):
    position = genuine.index(b"/Producer") + 2
    flipped = bytearray(genuine)
    flipped[position] ^= 0x20
    report = verify(bytes(flipped), trust)
    assert report.document is not DocumentVerdict.AUTHENTIC, report.summary()


def test_contents_zeroed(genuine, trust):
    match = re.search(rb"/Contents <([0-9a-fA-F]+)>", genuine)
    assert match
    zeroed = genuine[: match.start(1)] + b"0" * len(match.group(1)) + genuine[match.end(1) :]
    report = verify(zeroed, trust)
    assert report.document is not DocumentVerdict.AUTHENTIC


def _rewrite_byte_range(pdf: bytes, rewrite) -> bytes:
    """The approval signature's /ByteRange (the first in the file), rewritten at the same length."""
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert match
    numbers = rewrite(*(int(n) for n in match.groups()))
    text = ("/ByteRange [" + " ".join(str(n) for n in numbers)).encode()
    width = match.end() - match.start()
    assert len(text) < width
    return pdf[: match.start()] + text.ljust(width - 1) + b"]" + pdf[match.end() :]


@pytest.mark.parametrize(
    ("name", "rewrite"),
    [
        # The last 16 signed bytes left out (a later edit there would go unseen).
        ("shorter", lambda a, b, c, d: (a, b, c, d - 16)),
        # The second range starts inside the first: the same bytes hashed twice.
        ("overlapping", lambda a, b, c, d: (a, b, b - 64, d + 64)),
        # The /Contents hole moved onto other bytes.
        ("hole moved", lambda a, b, c, d: (a, b - 32, c - 32, d + 32)),
    ],
)
def test_byte_range_rewritten(genuine, trust, name, rewrite):
    altered = _rewrite_byte_range(genuine, rewrite)
    assert len(altered) == len(genuine)
    report = verify(altered, trust)
    assert report.document is not DocumentVerdict.AUTHENTIC, (name, report.summary())
    assert set(failed(report)) & {"parse", "signature_integrity", "unmodified_after_signing"}, (
        name,
        report.summary(),
    )


def test_signature_container_transplanted_from_another_certificate(app, genuine, trust, source):
    other = issue_pdf(app, next(n for n in valid_numbers(app) if n != "Testing-0002"))
    contents = rb"/Contents\s*<([0-9a-fA-F]+)>"
    mine, theirs = re.search(contents, genuine), re.search(contents, other)
    assert mine and theirs
    container = theirs.group(1).ljust(len(mine.group(1)), b"0")[: len(mine.group(1))]
    transplanted = genuine[: mine.start(1)] + container + genuine[mine.end(1) :]
    report = verify(transplanted, trust, source)
    assert report.document is not DocumentVerdict.AUTHENTIC, report.summary()
    assert failed(report)["signature_integrity"] == "digest_mismatch", report.summary()


def test_truncated_empty_and_html(genuine, trust):
    for data in (genuine[: len(genuine) // 2], b"", b"<!doctype html><p>certificate</p>"):
        report = verify(data, trust)
        assert report.verdict is Verdict.UNREADABLE
        assert report.document is DocumentVerdict.UNREADABLE
        assert failed(report)["parse"] in ("malformed", "not_pdf")
        assert len(report.checks) == 1


def test_encrypted_pdf(trust):
    doc = FPDF()
    doc.set_encryption(owner_password="owner", user_password="")
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text="encrypted")
    report = verify(bytes(doc.output()), trust)
    assert failed(report)["parse"] == "encrypted"


def test_signed_by_the_tsa_certificate_is_the_wrong_role(app, trust):
    from keys.signing import open_document_signer, sign_pdf

    pki = get_pki(app)
    signer = open_document_signer(pki)
    signer.signer = LoadedKeySigner(pki.key("tsa"), pki.tsa, pki.chain())  # type: ignore[arg-type]
    signer.cert = pki.tsa
    report = verify(sign_pdf(blank_pdf(), signer), trust)
    assert failed(report)["signer_role"] == "wrong_role"
    assert report.document is DocumentVerdict.FORGED


def test_signed_after_the_signers_revocation(make_pki):
    """A stolen key signs after its revocation, with the "good" answers of before embedded.

    The file alone looks fine; the agency's current CRLs (what the instance,
    the bundle and the registry hand the verifier) show the revocation.
    """
    import time

    from keys.signing import open_document_signer, sign_pdf
    from registry.verification.source import agency_trust
    from tests.documents import blank_pdf

    pki = make_pki()
    signer = open_document_signer(pki)
    earlier = sign_pdf(blank_pdf("earlier"), signer)
    time.sleep(1.1)  # the timestamps are real: let the clock pass the revocation
    revoked_at = datetime.now(UTC)
    time.sleep(1.1)
    # A thief signs before the agency knows (so the embedded OCSP answer says
    # "good"); the revocation then dates the compromise back before it.
    later = sign_pdf(blank_pdf("later"), signer)
    pki.revoke(pki.current_signer, "key_compromise", revoked_at)

    from_file_alone = verify(later, TrustBundle((pki.root,), pki.qr_jwks()))
    assert from_file_alone.check("signer_trusted").passed  # why the CRLs are needed

    trust = agency_trust(pki)
    report = verify(later, trust, now=revoked_at + timedelta(minutes=1))
    assert failed(report)["signer_trusted"] == "revoked", report.summary()
    assert "keyCompromise" in report.check("signer_trusted").detail
    assert "before this document was signed" in report.check("signer_trusted").detail
    assert report.document is not DocumentVerdict.AUTHENTIC

    # Signed before the revocation: still the agency's signature.
    kept = verify(earlier, trust, now=revoked_at + timedelta(minutes=1))
    assert kept.check("signer_trusted").passed, kept.summary()
    for pdf, authentic in ((earlier, True), (later, False)):
        offline = verify(pdf, _bundle_trust(pki))
        assert offline.check("signer_trusted").passed is authentic


def _bundle_trust(pki) -> TrustBundle:
    """The trust an offline verifier gets from ``accredit trust export``'s CRLs."""
    import base64
    import json

    from keys.revocation import CAS, current_crl
    from verifier.sources import load_bundle

    bundle = {
        "anchors": [pki.root.public_bytes(serialization.Encoding.PEM).decode()],
        "qr_keys": pki.qr_jwks(),
        "crls": [base64.b64encode(current_crl(pki, ca)).decode() for ca in CAS],
    }
    return load_bundle(json.dumps(bundle).encode())[0]


def test_untrusted_root(genuine, make_pki):
    other = make_pki()
    report = verify(genuine, TrustBundle((other.root,), other.qr_jwks()))
    assert report.document is not DocumentVerdict.AUTHENTIC
    assert "signer_trusted" in failed(report)


def test_status_changes_show_in_the_report(app, trust):
    pdf = issue_pdf(app, "Testing-0005")
    with rolled_back(app) as undone:
        suspend(undone, "Testing-0005")
        report = verify(pdf, trust, RegistryStatusSource(current.database(undone).session))
    assert report.document is DocumentVerdict.AUTHENTIC
    assert report.status.value == "suspended"
    assert report.verdict is Verdict.NOT_CURRENT


def suspend(app, number: str) -> None:
    with current.database(app).transaction() as session:
        acc = find_accreditation(session, number)
        officer, approver = factories.staff_pair(session)
        record(
            session,
            acc,
            EventKind.SUSPENDED,
            NOW.date(),
            proposed_by=officer,
            approved_by=approver,
            reason_en="PT failed",
        )


def test_a_file_the_register_did_not_record(genuine, trust, source, app):
    # Valid signature and QR, but re-saved with an extra LTA update: the whole-file
    # digest differs, the signed revision's digest does not, so it still binds.
    from keys.signing import refresh_lta

    refreshed = refresh_lta(genuine, get_document_signer(app))
    report = verify(refreshed, trust, source)
    assert report.check("unmodified_after_signing").passed, report.summary()
    assert report.check("registry_binding").passed


def test_the_time_budget_is_enforced(genuine, trust, source):
    from verifier.policy import Limits

    started = datetime.now(UTC)
    report = verify(genuine, trust, source, limits=Limits(seconds=0.02))
    elapsed = (datetime.now(UTC) - started).total_seconds()
    assert elapsed < 2
    assert "time_budget" in failed(report).values()
    assert report.verdict is not Verdict.VALID


@pytest.mark.parametrize("size", [21 * 1024 * 1024])
def test_oversized_files_are_refused_before_parsing(trust, size):
    report = verify(b"%PDF-1.7\n" + b"0" * size, trust)
    assert failed(report)["parse"] == "too_large"


def handmade_pdf(extra: bytes) -> bytes:
    """A one-page PDF written byte by byte, with ``extra`` as object 4 (hung off the catalog)."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R /Extra 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        extra,
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


@pytest.mark.parametrize("depth", [65, 400, 50_000])
def test_deep_nesting_is_refused_by_name(trust, depth):
    for opening, closing in ((b"[", b"]"), (b"<< /A ", b">>")):
        report = verify(handmade_pdf(opening * depth + b"0" + closing * depth), trust)
        assert failed(report)["parse"] == "too_deeply_nested", report.summary()
        assert report.verdict is Verdict.UNREADABLE


def test_nesting_within_the_limit_is_read(trust):
    for opening, closing in ((b"[", b"]"), (b"<< /A ", b">>")):
        report = verify(handmade_pdf(opening * 63 + b"0" + closing * 63), trust)
        assert report.check("parse").passed, report.summary()
        assert failed(report)["signature_integrity"] == "unsigned"
    broken = verify(handmade_pdf(b"<< /A >>"), trust)
    assert failed(broken)["parse"] == "malformed", broken.summary()


def rewrite_container(pdf: bytes, which: int, change) -> bytes:
    """Re-encode the CMS in the ``which``-th /Contents, same length, zero-padded."""
    from asn1crypto import cms

    match = list(re.finditer(rb"/Contents <([0-9a-fA-F]+)>", pdf))[which]
    hex_digits = match.group(1)
    info = cms.ContentInfo.load(bytes.fromhex(hex_digits.decode()).rstrip(b"\0"))
    change(info["content"])
    new = info.dump().hex().encode()
    assert len(new) <= len(hex_digits)
    new = new + b"0" * (len(hex_digits) - len(new))
    return pdf[: match.start(1)] + new + pdf[match.end(1) :]


@pytest.mark.parametrize("which", [0, -1])
def test_unsigned_cms_framing_changes_are_refused(genuine, trust, which):
    def declare_sha512(signed_data):
        signed_data["digest_algorithms"] = [{"algorithm": "sha512"}]

    altered = rewrite_container(genuine, which, declare_sha512)
    report = verify(altered, trust)
    assert report.document is not DocumentVerdict.AUTHENTIC, report.summary()
    assert failed(report)["signature_integrity"] == "altered_container"


def test_a_container_without_its_issuing_ca_is_still_held_to_the_agency_profile(genuine, trust):
    """Only the signer's own certificate left in the bag (the chain is in the DSS), and the
    framing altered: the signer still chains to the agency, so the profile still applies."""

    def strip_and_declare_sha512(signed_data):
        signer = signed_data["signer_infos"][0]["sid"].chosen
        signed_data["certificates"] = [
            choice
            for choice in signed_data["certificates"]
            if choice.chosen.serial_number == signer["serial_number"].native
        ]
        signed_data["digest_algorithms"] = [{"algorithm": "sha512"}]

    altered = rewrite_container(genuine, 0, strip_and_declare_sha512)
    report = verify(altered, trust)
    assert report.document is not DocumentVerdict.AUTHENTIC, report.summary()
    assert failed(report)["signature_integrity"] == "altered_container", report.summary()


def test_an_altered_certificate_in_a_timestamp_bag_is_refused(genuine, trust):
    from asn1crypto import cms
    from asn1crypto import x509 as asn1_x509

    def corrupt_root_copy(signed_data):
        certificates = list(signed_data["certificates"])
        for index, choice in enumerate(certificates):
            cert = choice.chosen
            if cert.subject == cert.issuer:
                tbs = cert["tbs_certificate"]
                tbs["serial_number"] = tbs["serial_number"].native + 1
                certificates[index] = cms.CertificateChoices(
                    {
                        "certificate": asn1_x509.Certificate(
                            {
                                "tbs_certificate": tbs,
                                "signature_algorithm": cert["signature_algorithm"],
                                "signature_value": cert["signature_value"],
                            }
                        )
                    }
                )
        signed_data["certificates"] = certificates

    altered = rewrite_container(genuine, -1, corrupt_root_copy)
    report = verify(altered, trust)
    assert report.document is not DocumentVerdict.AUTHENTIC, report.summary()
    assert failed(report)["signature_integrity"] in ("altered_certificate", "altered_container")


def test_a_look_alike_signed_outside_issuance_is_refused_online(app, trust, source):
    """Same number, a valid agency signature and QR, other page text: not what was issued.

    The look-alike is made by issuance itself inside a transaction that is then
    rolled back, so the agency's key signed it and the register never recorded it.
    """
    number = valid_numbers(app)[7]
    with rolled_back(app) as undone:
        with current.database(undone).transaction() as session:
            accreditation = find_accreditation(session, number)
            accreditation.cab.name_en = "Look-Alike Laboratories Co., Ltd."
        look_alike = issue_pdf(undone, number)
    genuine_copy = issue_pdf(app, number)
    assert b"Look-Alike" in look_alike or look_alike != genuine_copy
    online = verify(look_alike, trust, source)
    assert failed(online)["registry_binding"] == "not_recorded", online.summary()
    assert online.check("signer_trusted").passed and online.check("qr_payload").passed
    assert online.document is DocumentVerdict.UNTRUSTED
    assert online.verdict is Verdict.NOT_AUTHENTIC
    # With no register to ask, the signed QR payload binds alone, and says so.
    offline = verify(look_alike, trust, None)
    binding = offline.check("registry_binding")
    assert binding.outcome.value == "indeterminate" and binding.code == "no_status_source"
    assert verify(genuine_copy, trust, source).verdict is Verdict.VALID


def test_a_number_the_register_does_not_hold_is_refused_online(app, trust, source):
    number = valid_numbers(app)[8]
    with rolled_back(app) as undone:
        never_recorded = issue_pdf(undone, number)
    report = verify(never_recorded, trust, source)
    assert failed(report)["registry_binding"] == "not_registered", report.summary()
    assert report.document is DocumentVerdict.UNTRUSTED


def test_the_headline_is_derived_from_the_checks(app, genuine, trust, source):
    """Three lines from the same checks as the list: they can never disagree with it."""
    from verifier.report import Integrity, Issuer, StatusLine

    def headline(report):
        line = report.headline
        return line.integrity, line.issuer, line.status

    assert headline(verify(genuine, trust, source)) == (
        Integrity.INTACT,
        Issuer.AGENCY,
        StatusLine.CURRENT,
    )
    changed = verify(incremental(genuine, add_page_content), trust, source)
    assert headline(changed) == (
        Integrity.CHANGED_AFTER_SIGNING,
        Issuer.CHANGED_COPY,
        StatusLine.NOT_FOR_THIS_FILE,
    )
    # What the agency signed is the file up to its signature: offered beside the card.
    assert changed.signed_length and genuine.startswith(genuine[: changed.signed_length])
    offline = verify(genuine, trust, None)
    assert headline(offline) == (Integrity.INTACT, Issuer.AGENCY, StatusLine.UNCONFIRMED)
    unreadable = verify(b"<html>", trust, source)
    assert headline(unreadable) == (
        Integrity.UNREADABLE,
        Issuer.NOT_SHOWN,
        StatusLine.NOT_FOR_THIS_FILE,
    )
    unsigned = verify(blank_pdf(), trust, source)
    assert headline(unsigned)[0] is Integrity.UNSIGNED
    number = valid_numbers(app)[9]
    with rolled_back(app) as undone:
        look_alike = issue_pdf(undone, number)
    issue_pdf(app, number)
    assert headline(verify(look_alike, trust, source))[1] is Issuer.NOT_RECORDED
    as_json = verify(genuine, trust, source).as_json()["headline"]
    assert as_json == {"integrity": "intact", "issuer": "agency", "status": "current"}
