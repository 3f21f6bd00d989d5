"""Key stores behind one interface: encrypted files, or a PKCS#11 token (HSM).

Each store hands out a pyHanko ``Signer`` for a certificate. The file store
loads and validates a key once per process and keeps the key object: pyHanko's
``SimpleSigner`` re-parses (and, for RSA, re-checks) the key on every
signature, which costs about 270 ms with RSA-3072.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import PkiError
from .pki import Pki

HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def cert_store(certs: Iterable[x509.Certificate]) -> SimpleCertificateStore:
    return SimpleCertificateStore.from_certs([to_asn1(c) for c in certs])


class LoadedKeySigner(Signer):
    """A pyHanko signer over an in-memory ``cryptography`` key, loaded once."""

    def __init__(
        self,
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
        cert: x509.Certificate,
        chain: Iterable[x509.Certificate],
    ) -> None:
        self._key = key
        super().__init__(signing_cert=to_asn1(cert), cert_registry=cert_store(chain))

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        algorithm = HASHES[digest_algorithm.lower()]()
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(algorithm))
        return self._key.sign(data, padding.PKCS1v15(), algorithm)


class KeyStore(Protocol):
    """Where the document-signing key lives."""

    name: str

    def signer(self, pki: Pki, cert: x509.Certificate) -> Signer: ...


@dataclass
class FileKeyStore:
    """Passphrase-encrypted PKCS#8 files in the instance's PKI folder."""

    name: str = "file"

    def signer(self, pki: Pki, cert: x509.Certificate) -> Signer:
        key = pki.key(pki.signer_key_name(cert.serial_number))
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise PkiError(f"the signing key for {cert.serial_number:x} is not ECDSA or RSA")
        return LoadedKeySigner(key, cert, pki.chain())


@dataclass
class Pkcs11KeyStore:
    """A PKCS#11 token, through pyHanko's PKCS11Signer (python-pkcs11).

    SoftHSM2 rejects the combined CKM_ECDSA_SHA256 mechanism, so by default the
    digest is computed here and the token signs it raw (``raw_mechanism``).
    Real HSMs differ; the setting is configurable.
    """

    module: str
    token_label: str
    pin: str | None
    key_label: str
    raw_mechanism: bool = True
    name: str = "pkcs11"

    def __post_init__(self) -> None:
        self._session = None

    def session(self):  # type: ignore[no-untyped-def]
        if self._session is None:
            from pkcs11 import PKCS11Error
            from pyhanko.config.pkcs11 import TokenCriteria
            from pyhanko.sign.pkcs11 import open_pkcs11_session

            try:
                self._session = open_pkcs11_session(
                    self.module,
                    token_criteria=TokenCriteria(label=self.token_label),
                    user_pin=self.pin,
                )
            except (PKCS11Error, OSError, RuntimeError) as exc:
                raise PkiError(
                    f"cannot open PKCS#11 token {self.token_label!r} with {self.module}: "
                    f"{type(exc).__name__} {exc}"
                ) from exc
        return self._session

    def signer(self, pki: Pki, cert: x509.Certificate) -> Signer:
        from pyhanko.sign.pkcs11 import PKCS11Signer

        return PKCS11Signer(
            self.session(),
            key_label=self.key_label,
            signing_cert=to_asn1(cert),
            ca_chain=[to_asn1(c) for c in pki.chain()],
            use_raw_mechanism=self.raw_mechanism,
        )
