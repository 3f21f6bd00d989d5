"""The validation report: signed by the agency's QR key, checkable offline, printable."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

import pytest

from verifier.errors import VerifierError
from verifier.policy import verify
from verifier.report_pdf import render_report_pdf
from verifier.sources import TrustBundle
from verifier.validation_report import (
    FORMAT,
    report_document,
    sign_report,
    verify_signed_report,
)

from ..documents import blank_pdf


@pytest.fixture(scope="module")
def signed(shared_pki) -> tuple[bytes, dict]:
    pdf = blank_pdf()
    report = verify(
        pdf, TrustBundle((shared_pki.root,), shared_pki.qr_jwks()), None, filename="a.pdf"
    )
    document = report_document(
        report,
        pdf=pdf,
        checked_at=datetime.now(UTC),
        register=None,
        issuer="Thai Industrial Standards Institute",
        registry="https://registry.example.go.th",
    )
    return sign_report(document, shared_pki.qr_signing_jwk()), document


def test_a_signed_report_verifies_with_the_published_keys(signed, shared_pki):
    data, document = signed
    assert verify_signed_report(data, shared_pki.qr_jwks()) == document
    assert document["format"] == FORMAT and document["answer"]["verdict"] == "not_authentic"
    assert all("d" not in key for key in shared_pki.qr_jwks()["keys"])  # public keys only


def test_an_edited_report_is_refused(signed, shared_pki):
    data, _ = signed
    edited = json.loads(data)
    edited["document"]["answer"]["verdict"] = "valid"
    with pytest.raises(VerifierError, match="not the one that was signed"):
        verify_signed_report(json.dumps(edited).encode(), shared_pki.qr_jwks())


def test_another_key_or_garbage_is_refused(signed, make_pki):
    data, _ = signed
    with pytest.raises(VerifierError, match="unknown key"):
        verify_signed_report(data, make_pki().qr_jwks())
    with pytest.raises(VerifierError, match="not a signed validation report"):
        verify_signed_report(b"{}", {"keys": []})


def test_an_unsigned_report_says_so(shared_pki):
    document = {"format": FORMAT}
    data = json.loads(sign_report(document, None))
    assert "only the agency can vouch" in data["signature"]["unsigned"]
    with pytest.raises(VerifierError):
        verify_signed_report(json.dumps(data).encode(), shared_pki.qr_jwks())


def test_the_pdf_prints_both_languages_and_carries_the_signed_json(signed, tmp_path):
    data, _ = signed
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_report_pdf(data))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Validation report" in text and "รายงานผลการตรวจสอบ" in text
    assert "Not authentic" in text and "COSE_Sign1" in text
    subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp_path), str(pdf)], check=True)
    assert (tmp_path / "validation-report.json").read_bytes() == data
