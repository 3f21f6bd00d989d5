"""Honest files signed by others are described truthfully: intact, unchanged, not the agency's.

Signed here with pyHanko (PAdES B-B, and B-T with a timestamp from a TSA made
here), with signers made by ``cryptography`` and by the ``openssl`` command:
self-signed, expired, and chained to a CA of their own. None of them carries
a DSS. A signed file is never reported as "unsigned".
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers, timestamps
from pyhanko_certvalidator.registry import SimpleCertificateStore

from verifier.policy import verify
from verifier.report import DocumentVerdict, Outcome, Verdict
from verifier.sources import TrustBundle

from ..documents import blank_pdf

NOW = datetime.now(UTC)


def _cert(
    name: str,
    key,
    issuer: tuple[x509.Name, object] | None = None,
    *,
    days: tuple[int, int] = (-1, 365),
    ca: bool = False,
    usage: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + timedelta(days=days[0]))
        .not_valid_after(NOW + timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def sign(
    key_pem: bytes,
    cert: x509.Certificate,
    chain: tuple[x509.Certificate, ...] = (),
    timestamper: timestamps.TimeStamper | None = None,
) -> bytes:
    signer = signers.SimpleSigner(
        signing_cert=_asn1(cert),
        signing_key=load_private_key_from_pemder_data(key_pem, None),
        cert_registry=SimpleCertificateStore.from_certs([_asn1(c) for c in chain]),
    )
    out = BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(blank_pdf("A test report from another lab"))),
        signers.PdfSignatureMetadata(field_name="Signature1"),
        signer=signer,
        timestamper=timestamper,
        output=out,
    )
    return out.getvalue()


def self_signed(days: tuple[int, int] = (-1, 365)) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return sign(_pem_key(key), _cert("Some Other Signer", key, days=days))


def own_ca_b_t() -> bytes:
    """B-T: a signer under its own CA, with a timestamp from a TSA of the same CA."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Other Tool Root", ca_key, ca=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _cert("Other Tool Signer", key, (ca.subject, ca_key))
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's dummy TSA
    tsa = _cert(
        "Other Tool TSA", tsa_key, (ca.subject, ca_key), usage=ExtendedKeyUsageOID.TIME_STAMPING
    )
    stamper = timestamps.DummyTimeStamper(
        tsa_cert=_asn1(tsa),
        tsa_key=load_private_key_from_pemder_data(_pem_key(tsa_key), None),
        certs_to_embed=SimpleCertificateStore.from_certs([_asn1(ca)]),
    )
    return sign(_pem_key(key), cert, (ca,), stamper)


def openssl_signed(folder: Path) -> bytes:
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(crt),
            "-days",
            "30",
            "-subj",
            "/CN=OpenSSL Signer/O=Another Tool",
        ],
        check=True,
        capture_output=True,
    )
    return sign(key.read_bytes(), x509.load_pem_x509_certificate(crt.read_bytes()))


@pytest.fixture(scope="module")
def trust(shared_pki) -> TrustBundle:
    return TrustBundle((shared_pki.root,), shared_pki.qr_jwks())


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda _: self_signed(), id="b-b-self-signed"),
        pytest.param(lambda _: self_signed((-800, -400)), id="b-b-expired"),
        pytest.param(lambda _: own_ca_b_t(), id="b-t-own-ca"),
        pytest.param(openssl_signed, id="b-b-openssl"),
    ],
)
def test_a_foreign_signed_file_is_intact_unchanged_and_not_the_agencys(make, trust, tmp_path):
    report = verify(make(tmp_path), trust, None)
    codes = {c.name: (c.outcome, c.code) for c in report.checks}
    assert codes["signature_integrity"] == (Outcome.PASSED, "ok"), report.summary()
    assert codes["unmodified_after_signing"] == (Outcome.PASSED, "ok"), report.summary()
    assert report.check("unmodified_after_signing").detail == "nothing was added after signing"
    assert codes["signer_trusted"] == (Outcome.FAILED, "untrusted_signer")
    assert "unsigned" not in {code for _, code in codes.values()}
    assert report.document is DocumentVerdict.UNTRUSTED
    assert report.verdict is Verdict.NOT_AUTHENTIC
    assert "does not chain to a trusted agency root" in report.check("signer_trusted").detail


def test_an_unsigned_file_is_still_called_unsigned(trust):
    report = verify(blank_pdf(), trust, None)
    assert report.document is DocumentVerdict.UNSIGNED
