"""The PKCS#11 key store, for real, against a SoftHSM2 token made by the test."""

from __future__ import annotations

import glob
import subprocess
from pathlib import Path

import pytest

from keys.errors import PkiError
from keys.pki import key_bytes
from keys.signing import open_document_signer, sign_pdf
from keys.stores import Pkcs11KeyStore

from ..documents import blank_pdf
from .validation import validate_with_dss

MODULES = sorted(
    glob.glob("/usr/lib/softhsm/libsofthsm2.so") + glob.glob("/usr/lib/*/softhsm/libsofthsm2.so")
)
PIN = "246810"


@pytest.fixture
def softhsm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    if not MODULES:
        pytest.fail("SoftHSM2 is not installed: run `make system-deps`")
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "accredit",
            "--so-pin",
            "13579111",
            "--pin",
            PIN,
        ],
        check=True,
        capture_output=True,
    )
    return MODULES[0]


def test_pkcs11_store_signs_like_the_file_store(softhsm, make_pki, tmp_path):
    pki = make_pki()
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(key_bytes(pki.key(pki.signer_key_name()), None))
    subprocess.run(
        [
            "softhsm2-util",
            "--import",
            str(key_file),
            "--token",
            "accredit",
            "--label",
            "document-signing",
            "--id",
            "01",
            "--pin",
            PIN,
        ],
        check=True,
        capture_output=True,
    )
    key_file.unlink()
    store = Pkcs11KeyStore(
        module=softhsm, token_label="accredit", pin=PIN, key_label="document-signing"
    )
    assert store.raw_mechanism, "SoftHSM2 needs the raw ECDSA mechanism"
    signer = open_document_signer(pki, key_store=store)
    signed = sign_pdf(blank_pdf("signed in the HSM"), signer)
    status = validate_with_dss(signed, pki.root).signature
    assert status.bottom_line
    assert status.signing_cert.serial_number == pki.signing_cert.serial_number


def test_a_wrong_pin_is_one_clear_error(softhsm, make_pki):
    store = Pkcs11KeyStore(
        module=softhsm, token_label="accredit", pin="000000", key_label="document-signing"
    )
    with pytest.raises(PkiError, match="cannot open PKCS#11 token 'accredit'"):
        open_document_signer(make_pki(), key_store=store)
