"""The agency PKI on disk: generation, loading, rotation and revocation.

Layout of ``<instance>/pki/``::

    root.crt  root.key          root CA (long-lived, offline in production)
    issuing.crt  issuing.key    issuing CA: signs the certificates below
    signing/<serial>.crt .key   document-signing certificates (rotated)
    tsa.crt  tsa.key            RFC 3161 time-stamping authority
    ocsp.crt  ocsp.key          OCSP responder (id-pkix-ocsp-nocheck)
    log.key  qr.key             Ed25519 transparency-log key, ES256 QR key
    jwks.json                   the QR key's public half, as a JWK set
    state.json                  current signer and revocations
    root.crl  issuing.crl       DER CRLs, regenerated on revocation and before expiry

Private keys are PKCS#8, encrypted with the passphrase when one is given.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .config import Algorithm, PkiConfig
from .errors import (
    BadPassphrase,
    CertificateNotUsable,
    CorruptKeyFile,
    PkiExists,
    PkiMissing,
    UnknownCertificate,
)

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # RFC 9336
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
YEAR = timedelta(days=365)

REVOCATION_REASONS = {r.name: r for r in x509.ReasonFlags}


def new_key(algorithm: Algorithm) -> SigningKey:
    if algorithm == "rsa-3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return ec.generate_private_key(ec.SECP256R1())


def signature_hash(key: Any) -> hashes.HashAlgorithm | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


#: A PKI folder and everything in it belong to the service's own account.
FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> None:
    """``path`` and any folder made on the way to it, open to their owner only."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    for made in missing:
        os.chmod(made, FOLDER_MODE)  # mkdir's mode is filtered by the umask


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, atomically (mode 0600 from its creation)."""
    private_folder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_public(path: Path, data: bytes) -> None:
    """Certificates and state are public, yet kept 0600 too: one rule for the folder's files.

    Whoever needs them fetches them from ``/pki``; nothing reads them off the disk
    under another account, and a single mode is what an audit can check.
    """
    write_private(path, data)


def key_bytes(key: PrivateKeyTypes, passphrase: str | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def key_files(folder: Path) -> dict[Path, bool]:
    """Every private key file in a PKI folder, and whether it is encrypted (PKCS#8 PEM)."""
    found = {}
    for path in sorted(Path(folder).rglob("*.key")):
        try:
            found[path] = b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
        except OSError:
            continue
    return found


def load_key_file(path: Path, passphrase: str | None) -> PrivateKeyTypes:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise PkiMissing(f"key file {path} is missing") from exc
    encrypted = b"ENCRYPTED PRIVATE KEY" in data
    if encrypted and not passphrase:
        raise BadPassphrase(
            f"key file {path} is encrypted; set ACCREDIT_KEY_PASSPHRASE to its passphrase"
        )
    try:
        return serialization.load_pem_private_key(
            data, password=passphrase.encode() if encrypted and passphrase else None
        )
    except (ValueError, TypeError) as exc:
        if (encrypted and "password" in str(exc).lower()) or "decrypt" in str(exc).lower():
            raise BadPassphrase(
                f"the passphrase does not open {path} (check ACCREDIT_KEY_PASSPHRASE)"
            ) from exc
        raise CorruptKeyFile(f"key file {path} is damaged or not a PKCS#8 key: {exc}") from exc


def load_cert_file(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError as exc:
        raise PkiMissing(f"certificate {path} is missing; run `accredit keys init`") from exc
    except ValueError as exc:
        raise CorruptKeyFile(f"certificate {path} is damaged: {exc}") from exc


def _name(config: PkiConfig, role: str) -> x509.Name:
    """Subject name: the organisation in O, and in the CN too when it fits."""
    common_name = f"{config.organisation} {role}"
    if len(common_name) > 64:
        common_name = role
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, config.country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, config.organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issue(
    *,
    subject: x509.Name,
    public_key: Any,
    issuer: x509.Certificate | None,
    issuer_key: PrivateKeyTypes,
    not_before: datetime,
    lifetime: timedelta,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + lifetime)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    authority_key = issuer.public_key() if issuer else public_key
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key),  # type: ignore[arg-type]
        critical=False,
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, signature_hash(issuer_key))  # type: ignore[arg-type]


def _key_usage(**flags: bool) -> x509.KeyUsage:
    names = inspect.signature(x509.KeyUsage).parameters
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names})


def _distribution(config: PkiConfig, ca: str) -> x509.CRLDistributionPoints:
    url = f"{config.base_url}/pki/{ca}.crl"
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
    )


def _access(config: PkiConfig, ca: str) -> x509.AuthorityInformationAccess:
    from cryptography.x509.oid import AuthorityInformationAccessOID as AIA

    return x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                AIA.OCSP, x509.UniformResourceIdentifier(f"{config.base_url}/pki/ocsp")
            ),
            x509.AccessDescription(
                AIA.CA_ISSUERS,
                x509.UniformResourceIdentifier(f"{config.base_url}/pki/{ca}.crt"),
            ),
        ]
    )


def _b64(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()


def jwk_thumbprint(public_key: ec.EllipticCurvePublicKey) -> tuple[dict[str, str], str]:
    """The public JWK and its key ID: the RFC 7638 thumbprint cut to 8 bytes.

    The key ID travels inside every QR code, so it is kept short (11 characters).
    """
    numbers = public_key.public_numbers()
    jwk = {"crv": "P-256", "kty": "EC", "x": _b64(numbers.x), "y": _b64(numbers.y)}
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()[:8]).rstrip(b"=").decode()
    return jwk, kid


@dataclass(frozen=True)
class Revocation:
    serial: int
    at: datetime
    reason: x509.ReasonFlags


@dataclass
class Pki:
    """The agency PKI as stored in one folder. Keys load on first use, once."""

    folder: Path
    config: PkiConfig
    passphrase: str | None
    root: x509.Certificate
    issuing: x509.Certificate
    tsa: x509.Certificate
    ocsp: x509.Certificate
    signers: dict[int, x509.Certificate]
    current_signer: int
    revocations: dict[int, Revocation]
    _keys: dict[str, PrivateKeyTypes] = field(default_factory=dict, repr=False)

    # -- loading ---------------------------------------------------------------

    @classmethod
    def load(cls, folder: Path, config: PkiConfig, passphrase: str | None) -> Pki:
        folder = Path(folder)
        state_file = folder / "state.json"
        if not state_file.exists():
            raise PkiMissing(f"no agency PKI in {folder}; run `accredit keys init`")
        try:
            state = json.loads(state_file.read_text())
            current = int(state["current_signer"], 16)
            revocations = {
                int(serial, 16): Revocation(
                    int(serial, 16),
                    datetime.fromisoformat(r["at"]),
                    REVOCATION_REASONS[r["reason"]],
                )
                for serial, r in state.get("revoked", {}).items()
            }
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptKeyFile(f"{state_file} is damaged: {exc}") from exc
        signers = {
            cert.serial_number: cert
            for cert in (load_cert_file(p) for p in sorted((folder / "signing").glob("*.crt")))
        }
        if current not in signers:
            raise CorruptKeyFile(f"the current signing certificate {current:x} is missing")
        return cls(
            folder=folder,
            config=config,
            passphrase=passphrase,
            root=load_cert_file(folder / "root.crt"),
            issuing=load_cert_file(folder / "issuing.crt"),
            tsa=load_cert_file(folder / "tsa.crt"),
            ocsp=load_cert_file(folder / "ocsp.crt"),
            signers=signers,
            current_signer=current,
            revocations=revocations,
        )

    def key(self, name: str) -> PrivateKeyTypes:
        """A private key by file stem (``issuing``, ``tsa``, ``signing/<serial>``)."""
        if name not in self._keys:
            self._keys[name] = load_key_file(self.folder / f"{name}.key", self.passphrase)
        return self._keys[name]

    def check_keys(self) -> None:
        """Open every private key now, so a wrong passphrase shows at once."""
        for name in ("root", "issuing", "tsa", "ocsp", "log", "qr", self.signer_key_name()):
            self.key(name)

    # -- what the PKI holds ----------------------------------------------------

    @property
    def signing_cert(self) -> x509.Certificate:
        return self.signers[self.current_signer]

    def signer_key_name(self, serial: int | None = None) -> str:
        return f"signing/{(serial or self.current_signer):x}"

    def issued_by_issuing_ca(self) -> Iterator[x509.Certificate]:
        yield from self.signers.values()
        yield self.tsa
        yield self.ocsp

    def find(self, serial: int) -> tuple[x509.Certificate, x509.Certificate]:
        """The certificate with this serial and its issuer."""
        if serial == self.issuing.serial_number:
            return self.issuing, self.root
        for cert in self.issued_by_issuing_ca():
            if cert.serial_number == serial:
                return cert, self.issuing
        raise UnknownCertificate(f"no certificate with serial {serial:x} in this PKI")

    def chain(self) -> list[x509.Certificate]:
        return [self.issuing, self.root]

    def revocation(self, serial: int) -> Revocation | None:
        return self.revocations.get(serial)

    def check_usable(self, cert: x509.Certificate, at: datetime, what: str) -> None:
        """Refuse to use a certificate outside its validity or after revocation."""
        if at < cert.not_valid_before_utc:
            raise CertificateNotUsable(
                f"the {what} certificate {cert.serial_number:x} is not valid until "
                f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
            )
        if at > cert.not_valid_after_utc:
            raise CertificateNotUsable(
                f"the {what} certificate {cert.serial_number:x} expired on "
                f"{cert.not_valid_after_utc:%Y-%m-%d}; run `accredit keys rotate`"
            )
        revoked = self.revocation(cert.serial_number)
        if revoked and revoked.at <= at:
            raise CertificateNotUsable(
                f"the {what} certificate {cert.serial_number:x} was revoked on "
                f"{revoked.at:%Y-%m-%d %H:%M} UTC ({revoked.reason.name})"
            )

    def qr_jwks(self) -> dict[str, Any]:
        """The public QR keys, as published at ``/pki/jwks.json``."""
        return json.loads((self.folder / "jwks.json").read_text())

    def qr_signing_jwk(self) -> dict[str, Any]:
        """The private QR key as a JWK with its key ID, for signing payloads."""
        key = self.key("qr")
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CorruptKeyFile("the QR key is not an ECDSA P-256 key")
        jwk, kid = jwk_thumbprint(key.public_key())
        d = _b64(key.private_numbers().private_value)
        return {**jwk, "d": d, "kid": kid, "alg": "ES256"}

    # -- changes ---------------------------------------------------------------

    def _save_state(self) -> None:
        state = {
            "current_signer": f"{self.current_signer:x}",
            "revoked": {
                f"{r.serial:x}": {"at": r.at.isoformat(), "reason": r.reason.name}
                for r in self.revocations.values()
            },
        }
        _write_public(self.folder / "state.json", json.dumps(state, indent=1).encode())

    def issue_signer(self, now: datetime) -> x509.Certificate:
        """A new document-signing certificate and key, made current."""
        config = self.config
        self.check_usable(self.issuing, now, "issuing CA")
        key = new_key(config.algorithm)
        lifetime = min(
            YEAR * config.signer_years, self.issuing.not_valid_after_utc - now - timedelta(days=1)
        )
        cert = _issue(
            subject=_name(config, f"Document Signing {now:%Y-%m-%d %H%M%S}"),
            public_key=key.public_key(),
            issuer=self.issuing,
            issuer_key=self.key("issuing"),
            not_before=now - timedelta(minutes=5),
            lifetime=lifetime,
            extensions=[
                (x509.BasicConstraints(ca=False, path_length=None), True),
                (_key_usage(digital_signature=True, content_commitment=True), True),
                (
                    x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                    False,
                ),
                (_distribution(config, "issuing"), False),
                (_access(config, "issuing"), False),
            ],
        )
        name = f"{cert.serial_number:x}"
        write_private(self.folder / "signing" / f"{name}.key", key_bytes(key, self.passphrase))
        _write_public(
            self.folder / "signing" / f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM)
        )
        self.signers[cert.serial_number] = cert
        self.current_signer = cert.serial_number
        self._keys[self.signer_key_name()] = key
        self._save_state()
        return cert

    def revoke(self, serial: int, reason: str, at: datetime) -> Revocation:
        if reason not in REVOCATION_REASONS:
            raise UnknownCertificate(
                f"unknown revocation reason {reason!r}; use one of "
                + ", ".join(sorted(REVOCATION_REASONS))
            )
        cert, _ = self.find(serial)
        if cert == self.root:
            raise UnknownCertificate("the root cannot be revoked; replace the PKI instead")
        revocation = Revocation(serial, at, REVOCATION_REASONS[reason])
        self.revocations[serial] = revocation
        self._save_state()
        for stale in ("root.crl", "issuing.crl"):
            (self.folder / stale).unlink(missing_ok=True)
        return revocation


def create(
    folder: Path, config: PkiConfig, passphrase: str | None, now: datetime | None = None
) -> Pki:
    """Generate a complete agency PKI in ``folder``, which must not hold one."""
    target = Path(folder)
    if (target / "state.json").exists():
        raise PkiExists(f"an agency PKI already exists in {target}")
    if target.exists() and any(target.iterdir()):
        raise PkiExists(f"{target} is not empty; move it away before creating a PKI there")
    private_folder(target.parent)
    # Built beside the target and renamed into place: never half a PKI.
    folder = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-new-"))
    try:
        pki = _generate(folder, config, passphrase, now or datetime.now(UTC))
        if target.exists():
            target.rmdir()
        os.rename(folder, target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    pki.folder = target
    return pki


def _generate(folder: Path, config: PkiConfig, passphrase: str | None, now: datetime) -> Pki:
    start = now - timedelta(minutes=5)

    root_key = new_key(config.algorithm)
    root = _issue(
        subject=_name(config, "Root CA"),
        public_key=root_key.public_key(),
        issuer=None,
        issuer_key=root_key,
        not_before=start,
        lifetime=YEAR * config.root_years,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=1), True),
            (_key_usage(key_cert_sign=True, crl_sign=True), True),
        ],
    )
    issuing_key = new_key(config.algorithm)
    issuing = _issue(
        subject=_name(config, "Issuing CA"),
        public_key=issuing_key.public_key(),
        issuer=root,
        issuer_key=root_key,
        not_before=start,
        lifetime=YEAR * config.issuing_years,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (_key_usage(key_cert_sign=True, crl_sign=True), True),
            (_distribution(config, "root"), False),
        ],
    )
    tsa_key = new_key(config.algorithm)
    tsa = _issue(
        subject=_name(config, "Time-Stamping Authority"),
        public_key=tsa_key.public_key(),
        issuer=issuing,
        issuer_key=issuing_key,
        not_before=start,
        lifetime=YEAR * config.tsa_years,
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_key_usage(digital_signature=True, content_commitment=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True),
            (_distribution(config, "issuing"), False),
            (_access(config, "issuing"), False),
        ],
    )
    ocsp_key = new_key(config.algorithm)
    ocsp = _issue(
        subject=_name(config, "OCSP Responder"),
        public_key=ocsp_key.public_key(),
        issuer=issuing,
        issuer_key=issuing_key,
        not_before=start,
        lifetime=YEAR * config.ocsp_years,
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_key_usage(digital_signature=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), False),
            (x509.OCSPNoCheck(), False),
        ],
    )
    log_key = ed25519.Ed25519PrivateKey.generate()
    qr_key = ec.generate_private_key(ec.SECP256R1())
    jwk, kid = jwk_thumbprint(qr_key.public_key())
    jwks = {"keys": [{**jwk, "kid": kid, "alg": "ES256", "use": "sig"}]}

    pem = serialization.Encoding.PEM
    for name, key, cert in (
        ("root", root_key, root),
        ("issuing", issuing_key, issuing),
        ("tsa", tsa_key, tsa),
        ("ocsp", ocsp_key, ocsp),
    ):
        write_private(folder / f"{name}.key", key_bytes(key, passphrase))
        _write_public(folder / f"{name}.crt", cert.public_bytes(pem))
    write_private(folder / "log.key", key_bytes(log_key, passphrase))
    _write_public(
        folder / "log.pub",
        log_key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo),
    )
    write_private(folder / "qr.key", key_bytes(qr_key, passphrase))
    _write_public(folder / "jwks.json", json.dumps(jwks, indent=1).encode())

    pki = Pki(
        folder=folder,
        config=config,
        passphrase=passphrase,
        root=root,
        issuing=issuing,
        tsa=tsa,
        ocsp=ocsp,
        signers={},
        current_signer=0,
        revocations={},
        _keys={
            "root": root_key,
            "issuing": issuing_key,
            "tsa": tsa_key,
            "ocsp": ocsp_key,
            "log": log_key,
            "qr": qr_key,
        },
    )
    pki.issue_signer(now)
    return pki


def sha256_fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()
