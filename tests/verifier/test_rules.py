"""Every rule, one test per reason code, with the code asserted.

The documents are made here with ``keys/`` and the verifier alone: no
registry instance. Codes that need a register's own answer (``not_recorded``)
or CMS surgery (``altered_container``) are proven in ``test_policy``; the last
test holds every code of ``rules.CODES`` to a test that names it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers, timestamps
from pyhanko_certvalidator.registry import SimpleCertificateStore

from keys.pki import Pki
from keys.signing import DocumentSigner
from verifier import rules
from verifier.evidence import Evidence, Limits, examine, read
from verifier.policy import verify
from verifier.qr import encode_qr_payload
from verifier.report import CHECK_NAMES, CertificateStatus, Check, DocumentVerdict, Outcome
from verifier.revisions import analyse
from verifier.sources import RemoteStatusSource, StatusAnswer

from . import agency
from .test_foreign import _asn1, _cert, _pem_key

HERE = Path(__file__).parent
MALFORMED = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <</Root 9 0 R>>"


@pytest.fixture(scope="module")
def genuine(shared_signer: DocumentSigner) -> bytes:
    return agency.certificate(shared_signer)


@pytest.fixture(scope="module")
def trust(shared_pki: Pki):
    return agency.trust(shared_pki)


def check(report, name: str) -> Check:
    found = report.check(name)
    assert found is not None, f"{name} did not run"
    return found


def evidence_of(pdf: bytes, trust) -> Evidence:
    parsed, reader = read(pdf, Limits())
    assert parsed.passed and reader is not None
    return examine(pdf, reader, trust, datetime.now(UTC))


# --- the genuine document passes every rule it can without a register ---------------------


def test_a_genuine_certificate_made_without_a_registry_passes_offline(genuine, shared_pki, trust):
    report = verify(genuine, trust, agency.offline(shared_pki, {3: CertificateStatus.CURRENT}))
    assert report.document is DocumentVerdict.AUTHENTIC, report.summary()
    assert check(report, "registry_binding").code == "offline"
    assert check(report, "status").passed
    assert [c.name for c in report.checks] == list(CHECK_NAMES)


# --- parse ------------------------------------------------------------------------------------


def _encrypted(pdf: bytes, tmp_path: Path) -> bytes:
    src, out = tmp_path / "in.pdf", tmp_path / "out.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        ["qpdf", "--encrypt", "user", "owner", "256", "--", str(src), str(out)], check=True
    )
    return out.read_bytes()


@pytest.mark.parametrize(
    ("code", "make", "limits"),
    [
        ("too_large", lambda g, t: g, Limits(max_bytes=1024)),
        ("not_pdf", lambda g, t: b"GIF89a" + g, Limits()),
        (
            "malformed",
            lambda g, t: b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <</Root 9 0 R>>",
            Limits(),
        ),
        ("encrypted", lambda g, t: _encrypted(g, t), Limits()),
        ("too_many_revisions", lambda g, t: g, Limits(max_revisions=1)),
        ("too_many_objects", lambda g, t: g, Limits(max_objects=3)),
        ("too_deeply_nested", lambda g, t: g, Limits(max_nesting=2)),
    ],
)
def test_parse_codes(code: str, make: Callable, limits: Limits, genuine, trust, tmp_path):
    report = verify(make(genuine, tmp_path), trust, limits=limits)
    assert check(report, "parse").code == code
    assert report.document is DocumentVerdict.UNREADABLE
    assert len(report.checks) == 1, "nothing runs after a failed parse"


# --- signature_integrity -----------------------------------------------------------------------


def test_unsigned(trust, shared_pki):
    pdf = agency.unsigned_certificate(agency.fields_for(shared_pki))
    report = verify(pdf, trust)
    for name in ("signature_integrity", "signer_trusted", "unmodified_after_signing"):
        assert check(report, name).code == "unsigned"
    assert report.document is DocumentVerdict.UNSIGNED


def test_extra_signature(genuine, shared_signer, trust):
    meta = signers.PdfSignatureMetadata(field_name="Second", md_algorithm="sha256")
    writer = IncrementalPdfFileWriter(BytesIO(genuine), strict=False)
    twice = signers.PdfSigner(meta, signer=shared_signer.signer).sign_pdf(writer).getvalue()
    assert check(verify(twice, trust), "signature_integrity").code == "extra_signature"


def test_digest_mismatch(genuine, trust):
    at = genuine.index(b"/Producer (") + len(b"/Producer (")
    changed = genuine[:at] + bytes([genuine[at] ^ 0x20]) + genuine[at + 1 :]
    report = verify(changed, trust)
    assert check(report, "signature_integrity").code == "digest_mismatch"
    assert report.document is DocumentVerdict.MODIFIED


def test_not_validated_is_never_called_unsigned(genuine, trust):
    """When pyHanko raised, a signed file says so, in every rule that needed the result."""
    evidence = replace(
        evidence_of(genuine, trust), lta=None, validation=None, validation_error=True
    )
    for rule in rules.DOCUMENT_RULES[:2] + rules.DOCUMENT_RULES[3:]:
        assert rule(evidence).code == "not_validated", rule.__name__


def test_bad_signature_value(genuine, trust):
    evidence = evidence_of(genuine, trust)
    assert evidence.validation is not None
    broken = replace(evidence, validation=replace(evidence.validation, valid=False))
    assert rules.signature_integrity(broken).code == "bad_signature"


# --- signature_timestamp ---------------------------------------------------------------------


def _foreign_tsa() -> timestamps.DummyTimeStamper:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Someone Else's Root", ca_key, ca=True)
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's dummy
    tsa = _cert(
        "Someone Else's TSA", tsa_key, (ca.subject, ca_key), usage=ExtendedKeyUsageOID.TIME_STAMPING
    )
    return timestamps.DummyTimeStamper(
        tsa_cert=_asn1(tsa),
        tsa_key=load_private_key_from_pemder_data(_pem_key(tsa_key), None),
        certs_to_embed=SimpleCertificateStore.from_certs([_asn1(ca)]),
    )


def test_no_timestamp_and_no_long_term_data(shared_signer, trust):
    report = verify(agency.signed_without_lta(shared_signer, None), trust)
    assert check(report, "signature_integrity").passed
    assert check(report, "signature_timestamp").code == "no_timestamp"
    assert check(report, "long_term_validation").code.startswith("lta_")
    assert report.document is DocumentVerdict.UNTRUSTED


def test_untrusted_timestamp(shared_signer, trust):
    report = verify(agency.signed_without_lta(shared_signer, _foreign_tsa()), trust)
    assert check(report, "signature_timestamp").code == "untrusted_timestamp"


def test_bad_timestamp(genuine, trust):
    evidence = evidence_of(genuine, trust)
    assert evidence.validation is not None and evidence.validation.timestamp_validity
    stamp = replace(evidence.validation.timestamp_validity, valid=False)
    broken = replace(evidence, validation=replace(evidence.validation, timestamp_validity=stamp))
    assert rules.signature_timestamp(broken).code == "bad_timestamp"
    assert broken.signed_at is None, "a timestamp that does not verify proves no time"


# --- unmodified_after_signing ------------------------------------------------------------------


def _startxref(pdf: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])


def _trailer_entries(pdf: bytes) -> tuple[int, bytes]:
    """The last trailer's /Size and /Root reference, from the file's last cross-reference."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    size = int(reader.trailer["/Size"])
    root = reader.root_ref
    return size, f"{root.idnum} {root.generation} R".encode()


def _classic_update(pdf: bytes, xref_rows: bytes) -> bytes:
    size, root = _trailer_entries(pdf)
    at = len(pdf)
    return (
        pdf
        + b"xref\n"
        + xref_rows
        + b"trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (size, root, _startxref(pdf), at)
    )


def test_empty_update(genuine, trust):
    report = verify(_classic_update(genuine, b"0 0\n"), trust)
    assert check(report, "unmodified_after_signing").code == "empty_update"
    assert report.document is DocumentVerdict.MODIFIED


def test_objects_freed(genuine, trust):
    freed = _classic_update(genuine, b"0 1\n0000000000 65535 f \n3 1\n0000000000 00001 f \n")
    report = verify(freed, trust)
    # pyHanko's own diff analysis refuses it first; ours refuses it too.
    assert check(report, "unmodified_after_signing").code == "modified"
    assert report.document is DocumentVerdict.MODIFIED
    evidence = evidence_of(freed, trust)
    assert evidence.signature is not None
    found = analyse(evidence.reader, freed, evidence.signature.signed_revision)
    assert found.code == "objects_freed"


# --- qr_payload -------------------------------------------------------------------------------


def _with_xmp(signer: DocumentSigner, **changes: str | None) -> bytes:
    xmp = agency.fields_for(signer.pki)
    for key, value in changes.items():
        if value is None:
            xmp.pop(key, None)
        else:
            xmp[key] = value
    return agency.certificate(signer, xmp)


def test_no_qr(shared_signer, trust):
    report = verify(_with_xmp(shared_signer, qrPayload=None), trust)
    assert check(report, "qr_payload").code == "no_qr"
    assert report.document is DocumentVerdict.UNTRUSTED


@pytest.mark.parametrize(
    ("code", "payload"),
    [
        ("qr_wrong_prefix", "https://elsewhere.example/certificate/1"),
        ("qr_truncated", agency.PUBLIC_URL.upper() + "/V/"),
        ("qr_truncated", agency.PUBLIC_URL.upper() + "/V/!!!!NOT-BASE32"),
    ],
)
def test_qr_payloads_that_cannot_be_read(code, payload, shared_signer, trust):
    report = verify(_with_xmp(shared_signer, qrPayload=payload), trust)
    assert check(report, "qr_payload").code == code


def test_qr_signed_with_an_unknown_key(make_pki, shared_signer, trust):
    other = make_pki()
    report = verify(_with_xmp(shared_signer, qrPayload=agency.qr_url(other)), trust)
    assert check(report, "qr_payload").code == "qr_unknown_key"
    assert report.document is DocumentVerdict.FORGED


def test_qr_signed_by_another_key_under_our_key_id(make_pki, shared_pki, shared_signer, trust):
    other = make_pki().qr_signing_jwk()
    forged = {**other, "kid": shared_pki.qr_signing_jwk()["kid"]}
    payload = encode_qr_payload(agency.claims(), forged, agency.PUBLIC_URL)
    report = verify(_with_xmp(shared_signer, qrPayload=payload), trust)
    assert check(report, "qr_payload").code == "qr_bad_signature"
    assert report.document is DocumentVerdict.FORGED


@pytest.mark.parametrize(
    "qr",
    [
        agency.claims(certificate_number="TESTING-0002/R1"),
        agency.claims(scope_digest=b"\x01" * 16),
    ],
    ids=["another number", "another scope"],
)
def test_qr_mismatch(qr, shared_pki, shared_signer, trust):
    report = verify(_with_xmp(shared_signer, qrPayload=agency.qr_url(shared_pki, qr)), trust)
    assert check(report, "qr_payload").code == "qr_mismatch"
    assert report.document is DocumentVerdict.FORGED


# --- registry_binding and status ---------------------------------------------------------------


def test_no_status_source(genuine, trust):
    report = verify(genuine, trust)
    for name in ("registry_binding", "status", "public_log"):
        assert check(report, name).code == "no_status_source"
        assert check(report, name).outcome is Outcome.INDETERMINATE
    # Bound by its signed QR payload alone: authentic, with status unknown.
    assert report.document is DocumentVerdict.AUTHENTIC
    assert report.status is CertificateStatus.UNKNOWN


def test_no_number(shared_pki, shared_signer, trust):
    source = agency.offline(shared_pki, {3: CertificateStatus.CURRENT})
    report = verify(_with_xmp(shared_signer, certificateNumber=None), trust, source)
    assert check(report, "registry_binding").code == "no_number"
    assert report.document is not DocumentVerdict.AUTHENTIC


def test_not_registered_then_status_unknown(shared_pki, shared_signer, trust):
    unlisted = agency.claims(status_list_index=None)
    pdf = _with_xmp(shared_signer, qrPayload=agency.qr_url(shared_pki, unlisted))
    report = verify(pdf, trust, agency.offline(shared_pki, {3: CertificateStatus.CURRENT}))
    assert check(report, "registry_binding").code == "not_registered"
    assert check(report, "status").code == "unknown"
    assert report.document is DocumentVerdict.UNTRUSTED


def test_registry_unreachable(genuine, trust):
    report = verify(genuine, trust, RemoteStatusSource("http://127.0.0.1:9", timeout=2))
    assert check(report, "registry_binding").code == "registry_unreachable"
    assert check(report, "status").code == "registry_unreachable"
    assert check(report, "public_log").code == "registry_unreachable"
    assert report.status is CertificateStatus.UNKNOWN


class _BrokenSource:
    """A status source that raises: it has not answered (never 'not registered')."""

    def lookup(self, *_args: object) -> StatusAnswer | None:
        raise RuntimeError("the source broke")


def test_a_status_source_that_breaks_is_an_error_not_an_answer(genuine, trust):
    report = verify(genuine, trust, _BrokenSource())
    assert check(report, "registry_binding").code == "error"
    assert check(report, "status").code == "unknown"
    assert report.document is not DocumentVerdict.AUTHENTIC


@pytest.mark.parametrize("code", ["suspended", "withdrawn", "superseded"])
def test_status_codes_from_a_signed_list(code, genuine, shared_pki, trust):
    listed = CertificateStatus(code)
    report = verify(genuine, trust, agency.offline(shared_pki, {3: listed}))
    assert check(report, "status").code == listed.value
    assert report.status is listed


def test_partially_suspended_names_its_items(genuine, trust):
    item = {"product_en": "Rice", "parameter_en": "Lead", "method": "AOAC 999.11"}
    answer = StatusAnswer(
        CertificateStatus.PARTIALLY_SUSPENDED,
        True,
        "live",
        datetime.now(UTC),
        {"suspended_items": [{**item, "since": "2026-11-01", "until": None}]},
    )
    found = rules.status(replace(evidence_of(genuine, trust), consulted=True, answer=answer))
    assert found.code == "partially_suspended"
    assert "Rice · Lead · AOAC 999.11 (from 2026-11-01, until lifted)" in found.detail


def test_expired_from_the_signed_payload(shared_pki, shared_signer, trust):
    old = agency.claims(valid_until=(datetime.now(UTC) - timedelta(days=2)).date())
    pdf = _with_xmp(shared_signer, qrPayload=agency.qr_url(shared_pki, old))
    report = verify(pdf, trust, agency.offline(shared_pki, {3: CertificateStatus.CURRENT}))
    assert check(report, "status").code == "expired"


def test_a_stale_list_gives_unknown(genuine, shared_pki, trust):
    stale = agency.offline(
        shared_pki, {3: CertificateStatus.CURRENT}, as_of=datetime.now(UTC) - timedelta(days=30)
    )
    report = verify(genuine, trust, stale)
    assert check(report, "status").code == "unknown"
    assert report.status is CertificateStatus.UNKNOWN


# --- the budget -------------------------------------------------------------------------------


def test_time_budget_fails_every_rule_not_started(genuine, trust):
    report = verify(genuine, trust, limits=Limits(seconds=0))
    assert {c.code for c in report.checks if c.name != "parse"} == {"time_budget"}
    assert report.document is not DocumentVerdict.AUTHENTIC


# --- every code is held to a test --------------------------------------------------------------


def test_every_reason_code_is_named_by_a_test():
    text = "\n".join(p.read_text() for p in HERE.glob("test_*.py"))
    missing = sorted(
        f"{name}:{code}"
        for name, codes in rules.CODES.items()
        for code in codes
        if code != "lta_*" and f'"{code}"' not in text
    )
    assert not missing, f"reason codes no test names: {missing}"
