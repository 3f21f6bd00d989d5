"""The QR payload format, checked without the library that makes it."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date

import cbor2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from keys.pki import jwk_thumbprint
from verifier.errors import QrBadSignature, QrTruncated, QrUnknownKey, QrWrongPrefix
from verifier.qr import QrClaims, decode_qr_payload, encode_qr_payload, scope_digest

CLAIMS = QrClaims(
    issuer="TISI",
    certificate_number="Testing-0123/R3",
    revision=3,
    accreditation_number="Testing-0123",
    cab_name="Siam Charoen Analytical Laboratory Co., Ltd.",
    standard="ISO/IEC 17025:2017",
    valid_until=date(2030, 1, 14),
    scope_digest=scope_digest([{"method": "AOAC 999.11", "parameter": "Lead (Pb)"}]),
    status_list_index=41,
)
URL = "https://registry.example.go.th"


@pytest.fixture(scope="module")
def qr_key(tmp_path_factory):
    from keys import pki as pki_module
    from keys.config import PkiConfig

    pki = pki_module.create(tmp_path_factory.mktemp("qr") / "pki", PkiConfig(), None)
    return pki


def b32(token: str) -> bytes:
    return base64.b32decode(token + "=" * (-len(token) % 8))


def test_round_trip_with_only_the_exported_jwk_set(qr_key, tmp_path):
    url = encode_qr_payload(CLAIMS, qr_key.qr_signing_jwk(), URL)
    exported = tmp_path / "jwks.json"
    exported.write_text(json.dumps(qr_key.qr_jwks()))
    keys = json.loads(exported.read_text())
    assert all("d" not in k for k in keys["keys"]), "the published set has no private part"
    claims = decode_qr_payload(url, keys, expected_prefix=URL)
    assert replace(claims, kid=None) == CLAIMS
    assert claims.kid == keys["keys"][0]["kid"]
    assert url == url.upper()
    assert len(url) < 450


def test_sig_structure_rebuilt_by_hand_verifies_with_cryptography_alone(qr_key):
    """RFC 9052 section 4.4, so a library change cannot silently change the printed format."""
    url = encode_qr_payload(CLAIMS, qr_key.qr_signing_jwk(), URL)
    raw = b32(url.split("/V/")[1])
    message = cbor2.loads(raw)
    assert isinstance(message, cbor2.CBORTag) and message.tag == 18  # COSE_Sign1
    protected_bstr, unprotected, payload, signature = message.value
    protected = cbor2.loads(protected_bstr)
    assert protected == {1: -7, 4: qr_key.qr_jwks()["keys"][0]["kid"].encode()}
    assert unprotected == {}
    assert cbor2.loads(payload)["cn"] == "Testing-0123/R3"
    sig_structure = cbor2.dumps(["Signature1", protected_bstr, b"", payload])
    assert len(signature) == 64
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    public = qr_key.key("qr").public_key()
    public.verify(encode_dss_signature(r, s), sig_structure, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public.verify(encode_dss_signature(r, s), sig_structure + b"x", ec.ECDSA(hashes.SHA256()))
    _, kid = jwk_thumbprint(public)
    assert kid == qr_key.qr_jwks()["keys"][0]["kid"]


def test_wrong_prefix(qr_key):
    url = encode_qr_payload(CLAIMS, qr_key.qr_signing_jwk(), URL)
    with pytest.raises(QrWrongPrefix):
        decode_qr_payload(url, qr_key.qr_jwks(), expected_prefix="https://elsewhere.example")
    with pytest.raises(QrWrongPrefix):
        decode_qr_payload("https://example.com/other/path", qr_key.qr_jwks())


@pytest.mark.parametrize("cut", [1, 10, 100])
def test_truncated_payload(qr_key, cut):
    url = encode_qr_payload(CLAIMS, qr_key.qr_signing_jwk(), URL)
    with pytest.raises((QrTruncated, QrBadSignature)):
        decode_qr_payload(url[:-cut], qr_key.qr_jwks())


@pytest.mark.parametrize("token", ["", "!!!!", "AAAA", "MZXW6YTBOI"])
def test_garbage_tokens(qr_key, token):
    with pytest.raises(QrTruncated):
        decode_qr_payload(f"{URL}/V/{token}", qr_key.qr_jwks())


def test_unknown_key(qr_key, make_pki):
    other = make_pki()
    url = encode_qr_payload(CLAIMS, other.qr_signing_jwk(), URL)
    with pytest.raises(QrUnknownKey, match="unknown key"):
        decode_qr_payload(url, qr_key.qr_jwks())


def test_bad_signature_with_a_known_key_id(qr_key, make_pki):
    forger = make_pki().qr_signing_jwk()
    forger["kid"] = qr_key.qr_jwks()["keys"][0]["kid"]
    url = encode_qr_payload(CLAIMS, forger, URL)
    with pytest.raises(QrBadSignature):
        decode_qr_payload(url, qr_key.qr_jwks())


def test_tampered_claims_fail_the_signature(qr_key):
    url = encode_qr_payload(CLAIMS, qr_key.qr_signing_jwk(), URL)
    message = cbor2.loads(b32(url.split("/V/")[1]))
    protected, unprotected, payload, signature = message.value
    claims = cbor2.loads(payload)
    claims["vu"] = "2099-12-31"
    forged = cbor2.dumps(
        cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature])
    )
    token = base64.b32encode(forged).decode().rstrip("=")
    with pytest.raises(QrBadSignature):
        decode_qr_payload(f"{URL}/V/{token}", qr_key.qr_jwks())
