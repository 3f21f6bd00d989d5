"""The remote status source: a register that does not answer is "could not check"."""

from __future__ import annotations

import socket

import pytest

from verifier.errors import VerifierError
from verifier.policy import verify
from verifier.report import CHECK_NAMES, CertificateStatus, Outcome
from verifier.sources import RemoteStatusSource, TrustBundle, check_registry_url, fetch_crls


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_register_answers_unknown_with_the_reason():
    source = RemoteStatusSource(f"http://127.0.0.1:{closed_port()}", timeout=2)
    answer = source.lookup("Testing-0001/R1", {"00" * 32})
    assert answer is not None
    assert answer.status is CertificateStatus.UNKNOWN
    assert "did not answer" in answer.detail["error"]


def test_crls_from_an_unreachable_register_are_one_clear_error():
    with pytest.raises(VerifierError, match="cannot read the CRL"):
        fetch_crls(f"http://127.0.0.1:{closed_port()}", timeout=2)


def test_unreachable_status_is_indeterminate_not_failed(signed_pdf, shared_pki):
    from cryptography.hazmat.primitives import serialization

    trust = TrustBundle.from_pem(
        [shared_pki.root.public_bytes(serialization.Encoding.PEM)], shared_pki.qr_jwks()
    )
    source = RemoteStatusSource(f"http://127.0.0.1:{closed_port()}", timeout=2)
    report = verify(signed_pdf, trust, source)
    status = report.check("status")
    assert status is not None and status.outcome is not Outcome.PASSED
    assert report.status is CertificateStatus.UNKNOWN


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x", "javascript:alert(1)", ""])
def test_only_http_registers(url):
    with pytest.raises(VerifierError):
        check_registry_url(url)


def test_the_time_budget_interrupts_a_check_in_progress(signed_pdf, shared_pki):
    """No input can hold a worker past its budget, even inside one long check."""
    import time

    from cryptography.hazmat.primitives import serialization

    from verifier.policy import Limits

    trust = TrustBundle.from_pem(
        [shared_pki.root.public_bytes(serialization.Encoding.PEM)], shared_pki.qr_jwks()
    )
    started = time.monotonic()
    report = verify(signed_pdf, trust, None, limits=Limits(seconds=0.02))
    assert time.monotonic() - started < 1.0
    assert any(c.code == "time_budget" for c in report.checks)
    assert report.verdict.value != "valid"
    names = [c.name for c in report.checks]
    assert len(names) == len(set(names)) == len(CHECK_NAMES)
