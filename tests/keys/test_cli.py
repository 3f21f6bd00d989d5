"""`accredit keys ...`, and key problems as issuance meets them, including bad input.

There is no command that signs an arbitrary PDF with the agency's key (the
agency's key signs only inside issuance), so key errors are shown through
`accredit issue`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader

from keys import pki as pki_module
from keys.config import PkiConfig


@pytest.fixture
def source(accredit) -> Callable[..., str]:
    """Make the register (demo data, no certificates) and name an accreditation to issue."""

    def make(env: dict[str, str] | None = None) -> str:
        made = accredit("init", "--demo", "5", "--issue", "0", env=env or {})
        assert made.returncode == 0, made.stderr
        listed = accredit("list", "--status", "valid", env=env or {})
        return listed.stdout.split()[0]

    return make


def one_error_line(result) -> str:
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("accredit: error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_init_creates_a_pki_and_warns_when_unencrypted(accredit, tmp_path):
    result = accredit("init")
    assert result.returncode == 0, result.stderr
    assert "UNENCRYPTED" in result.stderr
    assert (tmp_path / "instance" / "pki" / "state.json").exists()
    again = accredit("keys", "init")
    assert again.returncode == 1
    assert "already exists" in one_error_line(again)


def test_keys_root_prints_the_root_pem(accredit, tmp_path):
    assert accredit("init").returncode == 0
    result = accredit("keys", "root")
    assert result.returncode == 0
    cert = x509.load_pem_x509_certificate(result.stdout.encode())
    assert "Root CA" in cert.subject.rfc4514_string()
    assert cert == x509.load_pem_x509_certificate(
        (tmp_path / "instance" / "pki" / "root.crt").read_bytes()
    )


def test_missing_pki_is_one_clear_line(accredit, source, tmp_path):
    import shutil

    number = source()
    shutil.rmtree(tmp_path / "instance" / "pki")
    result = accredit("issue", number, "-o", str(tmp_path / "out.pdf"))
    assert result.returncode == 2
    assert "accredit keys init" in one_error_line(result)


def test_issuance_signs_with_encrypted_keys(accredit, source, tmp_path):
    env = {"ACCREDIT_KEY_PASSPHRASE": "correct horse"}
    number = source(env)
    out = tmp_path / "out.pdf"
    result = accredit("issue", number, "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert "UNENCRYPTED" not in result.stderr
    signatures = PdfFileReader(BytesIO(out.read_bytes())).embedded_signatures
    assert [s.sig_object_type for s in signatures] == ["/Sig", "/DocTimeStamp"]
    key = (tmp_path / "instance" / "pki" / "issuing.key").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in key


def test_no_command_signs_an_arbitrary_pdf(accredit):
    """The agency's key signs only inside issuance (behind four-eyes approval)."""
    result = accredit("sign", "any.pdf", "-o", "out.pdf")
    assert result.returncode == 2
    assert "No such command 'sign'" in result.stderr


def test_wrong_passphrase_signs_nothing(accredit, source, tmp_path):
    number = source({"ACCREDIT_KEY_PASSPHRASE": "right"})
    out = tmp_path / "out.pdf"
    for env in ({"ACCREDIT_KEY_PASSPHRASE": "wrong"}, {}):
        result = accredit("issue", number, "-o", str(out), env=env)
        assert result.returncode == 2
        assert "ACCREDIT_KEY_PASSPHRASE" in one_error_line(result)
        assert not out.exists()


def test_corrupted_key_file_is_reported(accredit, source, tmp_path):
    number = source()
    for key in (tmp_path / "instance" / "pki" / "signing").glob("*.key"):
        marker = "PRIVATE" + " KEY"  # spelled apart: this file holds no key material
        key.write_text(f"-----BEGIN {marker}-----\nnot a key\n-----END {marker}-----\n")
    result = accredit("issue", number, "-o", str(tmp_path / "out.pdf"))
    assert result.returncode == 2
    assert "damaged" in one_error_line(result)


def test_an_expired_signing_certificate_signs_nothing(accredit, source, tmp_path):
    long_ago = datetime.now(UTC) - timedelta(days=365 * 4)
    pki_module.create(
        tmp_path / "instance" / "pki",
        PkiConfig(organisation="Thai Industrial Standards Institute"),
        None,
        long_ago,
    )
    number = source()
    out = tmp_path / "out.pdf"
    result = accredit("issue", number, "-o", str(out))
    assert result.returncode == 1
    assert "expired" in one_error_line(result)
    assert "accredit keys rotate" in result.stderr
    assert not out.exists()
    rotated = accredit("keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert accredit("issue", number, "-o", str(out)).returncode == 0


def test_unreachable_external_tsa_is_one_clear_line(accredit, source, tmp_path):
    number = source()
    out = tmp_path / "out.pdf"
    result = accredit(
        "issue", number, "-o", str(out), env={"ACCREDIT_TSA_URL": "http://127.0.0.1:9/tsa"}
    )
    assert result.returncode == 1
    assert "time-stamping authority" in one_error_line(result)
    assert not out.exists()


def test_revoked_signer_is_refused_until_rotation(accredit, source, tmp_path):
    number = source()
    state = (tmp_path / "instance" / "pki" / "state.json").read_text()
    serial = json.loads(state)["current_signer"]
    revoked = accredit("keys", "revoke", serial, "--reason", "key_compromise")
    assert revoked.returncode == 0, revoked.stderr
    result = accredit("issue", number, "-o", str(tmp_path / "out.pdf"))
    assert result.returncode == 1
    assert "revoked" in one_error_line(result)
    bad_reason = accredit("keys", "revoke", serial, "--reason", "because")
    assert bad_reason.returncode == 1
    assert accredit("keys", "rotate").returncode == 0
    assert accredit("issue", number, "-o", str(tmp_path / "out.pdf")).returncode == 0
