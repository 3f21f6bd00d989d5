"""The unsigned parts of a signature: certificates carried inside the CMS.

The certificate set of a CMS SignedData is not covered by its signature, so a
changed byte in an unused certificate copy leaves pyHanko's verdict intact. A
genuine agency signature carries only certificates that are trust anchors, validly self-signed,
or validly issued by a certificate it carries; anything else means the
signature container was altered. (Whether the chain is trusted is another
check's question.)
"""

from __future__ import annotations

from collections.abc import Iterable

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding


def _certificates(signed_data: cms.SignedData) -> list[bytes]:
    found = []
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            raise ValueError(f"unexpected {choice.name} in the certificate set")
        found.append(choice.chosen.dump())
    return found


def _timestamp_tokens(signed_data: cms.SignedData) -> Iterable[cms.SignedData]:
    for info in signed_data["signer_infos"]:
        for attribute in info["unsigned_attrs"] or []:
            if attribute["type"].native == "signature_time_stamp_token":
                for token in attribute["values"]:
                    yield token["content"]


def altered_certificates(
    signed_data: cms.SignedData, anchors: Iterable[x509.Certificate]
) -> list[str]:
    """Subjects of carried certificates that are neither anchors nor validly issued."""
    problems: list[str] = []
    containers = [signed_data, *_timestamp_tokens(signed_data)]
    trusted = {a.public_bytes(Encoding.DER) for a in anchors}
    for container in containers:
        raw = _certificates(container)
        certs = [x509.load_der_x509_certificate(der) for der in raw]
        pool = certs + [x509.load_der_x509_certificate(der) for der in trusted]
        for der, cert in zip(raw, certs, strict=True):
            if der in trusted:
                continue
            if not any(_issued_by(cert, issuer) for issuer in pool):
                problems.append(cert.subject.rfc4514_string())
    return problems


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
