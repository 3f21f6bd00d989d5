"""CRLs and OCSP responses for the agency CAs, made in-process.

The same functions answer the registry's ``/pki/*.crl`` and ``/pki/ocsp``
routes and feed the validation data embedded at signing time, so signing
never makes an HTTP call to ourselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from .errors import PkiError
from .pki import Pki, signature_hash, write_private

CAS = ("root", "issuing")
#: The CertID hashes we answer for: the SHA-1 that NSS and OpenSSL send, and SHA-2.
CERT_ID_HASHES = (hashes.SHA1, hashes.SHA224, hashes.SHA256, hashes.SHA384, hashes.SHA512)


class BadOcspRequest(PkiError):
    pass


def _ca(pki: Pki, name: str) -> x509.Certificate:
    if name == "root":
        return pki.root
    if name == "issuing":
        return pki.issuing
    raise PkiError(f"unknown CA {name!r}; the agency has {', '.join(CAS)}")


def _crl_number(pki: Pki, name: str) -> int:
    path = pki.folder / f"{name}.crl"
    if not path.exists():
        return 1
    try:
        old = x509.load_der_x509_crl(path.read_bytes())
        number = old.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (ValueError, x509.ExtensionNotFound):
        return 1
    return number + 1


def build_crl(pki: Pki, name: str, now: datetime) -> x509.CertificateRevocationList:
    ca = _ca(pki, name)
    key = pki.key(name)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now - timedelta(minutes=5))
        .next_update(now + timedelta(days=pki.config.crl_days))
        .add_extension(x509.CRLNumber(_crl_number(pki, name)), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    issued = [pki.issuing] if name == "root" else list(pki.issued_by_issuing_ca())
    for cert in issued:
        revoked = pki.revocation(cert.serial_number)
        if revoked is None:
            continue
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(revoked.at)
            .add_extension(x509.CRLReason(revoked.reason), critical=False)
            .build()
        )
    return builder.sign(key, signature_hash(key))  # type: ignore[arg-type]


def current_crl(pki: Pki, name: str, now: datetime | None = None) -> bytes:
    """The CA's CRL in DER: the stored one, or a new one when it nears nextUpdate."""
    now = now or datetime.now(UTC)
    path = pki.folder / f"{name}.crl"
    _ca(pki, name)
    if path.exists():
        try:
            crl = x509.load_der_x509_crl(path.read_bytes())
            fresh = crl.next_update_utc and crl.next_update_utc - now > timedelta(days=1)
            if fresh and crl.last_update_utc <= now:
                return path.read_bytes()
        except ValueError:
            pass
    der = build_crl(pki, name, now).public_bytes(serialization.Encoding.DER)
    write_private(path, der)
    return der


@dataclass(frozen=True)
class OcspAnswer:
    der: bytes
    next_update: datetime


def ocsp_for(
    pki: Pki,
    cert: x509.Certificate,
    now: datetime | None = None,
    nonce: bytes | None = None,
    algorithm: hashes.HashAlgorithm | None = None,
) -> OcspAnswer:
    """A signed OCSP response about one certificate issued by the issuing CA."""
    now = now or datetime.now(UTC)
    revoked = pki.revocation(cert.serial_number)
    this_update = now - timedelta(minutes=5)
    next_update = now + timedelta(hours=pki.config.ocsp_hours)
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert,
        issuer=pki.issuing,
        algorithm=algorithm or hashes.SHA256(),
        cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
        this_update=this_update,
        next_update=next_update,
        revocation_time=revoked.at if revoked else None,
        revocation_reason=revoked.reason if revoked else None,
    )
    return _sign(pki, builder, nonce, next_update)


def _sign(
    pki: Pki, builder: ocsp.OCSPResponseBuilder, nonce: bytes | None, next_update: datetime
) -> OcspAnswer:
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, pki.ocsp).certificates(
        [pki.ocsp]
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    key = pki.key("ocsp")
    response = builder.sign(key, signature_hash(key))  # type: ignore[arg-type]
    return OcspAnswer(response.public_bytes(serialization.Encoding.DER), next_update)


def unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )


#: RFC 8954: a nonce is 1 to 32 octets; a responder refuses longer ones.
MAX_NONCE = 32
#: RFC 5280: a serial number is positive and at most 20 octets.
MAX_SERIAL = 2**159


def answer_ocsp_request(pki: Pki, request_der: bytes, now: datetime | None = None) -> bytes:
    """RFC 6960: answer a DER request; malformed or foreign requests get an error status.

    cryptography parses a request lazily: its extensions and its CertID's hash
    algorithm raise only when read. Each is read here, under its own answer:
    a request we cannot parse is ``malformedRequest``; a CertID hashed with an
    algorithm we do not accept (MD5, SHA-3, an unknown OID) cannot be matched
    to our CA, so we cannot answer for it authoritatively: ``unauthorized``.
    """
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        nonce_extension = request.extensions.get_extension_for_class(x509.OCSPNonce)
        nonce: bytes | None = nonce_extension.value.nonce
    except x509.ExtensionNotFound:
        nonce = None
    except (ValueError, x509.DuplicateExtension):
        return unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    except NotImplementedError:
        # More than one CertID: RFC 5019 clients send one, and so do NSS and pyHanko.
        return unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if nonce is not None and not 0 < len(nonce) <= MAX_NONCE:
        return unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if not 0 < request.serial_number < MAX_SERIAL:
        return unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    try:
        algorithm = request.hash_algorithm
    except UnsupportedAlgorithm:
        return unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    if not isinstance(algorithm, CERT_ID_HASHES):
        return unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    issuer = pki.issuing
    ours = (
        _hash(algorithm, issuer.subject.public_bytes()),
        _hash(algorithm, _key_bits(issuer.public_key())),
    )
    if (request.issuer_name_hash, request.issuer_key_hash) != ours:
        return unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    for cert in pki.issued_by_issuing_ca():
        if cert.serial_number == request.serial_number:
            # The CertID must use the request's hash (NSS asks with SHA-1).
            return ocsp_for(pki, cert, now, nonce, algorithm).der
    now = now or datetime.now(UTC)
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        issuer_name_hash=request.issuer_name_hash,
        issuer_key_hash=request.issuer_key_hash,
        serial_number=request.serial_number,
        algorithm=algorithm,
        cert_status=ocsp.OCSPCertStatus.UNKNOWN,
        this_update=now - timedelta(minutes=5),
        next_update=now + timedelta(hours=pki.config.ocsp_hours),
        revocation_time=None,
        revocation_reason=None,
    )
    return _sign(pki, builder, nonce, now + timedelta(hours=pki.config.ocsp_hours)).der


def _hash(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()


def _key_bits(public_key: object) -> bytes:
    """The subjectPublicKey BIT STRING contents, which issuerKeyHash covers."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    if isinstance(public_key, rsa.RSAPublicKey):
        return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    raise BadOcspRequest("unsupported issuer key type")
