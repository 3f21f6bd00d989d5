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


def carried_certificates(signed_data: cms.SignedData) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(der) for der in _certificates(signed_data)]


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
            if not any(issued_by(cert, issuer) for issuer in pool):
                problems.append(cert.subject.rfc4514_string())
    return problems


def claims_agency(
    cert: x509.Certificate, carried: Iterable[x509.Certificate], anchors: Iterable[x509.Certificate]
) -> bool:
    """Whether ``cert`` names the agency's PKI as its issuer: an anchor, or a CA an anchor names.

    Names only, no signatures: a copy of an agency certificate with a byte
    changed still claims the agency, and so still gets the agency's profile.
    A signer of another PKI does not, and its container is not held to it.
    """
    names = {anchor.subject for anchor in anchors}
    names |= {c.subject for c in carried if c.issuer in names}
    return cert.issuer in names or cert.subject in names


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


#: Signature algorithms accepted per digest: explicit ECDSA or PKCS#1 v1.5 / PSS.
#: ``rsassa_pkcs1v15`` is plain rsaEncryption, which RFC 5754 (section 3.2) allows
#: with any digest and which other tools (pyHanko's own RSA signer) write.
SIGNATURE_ALGORITHMS = {
    "sha256": {"sha256_ecdsa", "sha256_rsa", "rsassa_pss", "rsassa_pkcs1v15"},
    "sha384": {"sha384_ecdsa", "sha384_rsa", "rsassa_pss", "rsassa_pkcs1v15"},
    "sha512": {"sha512_ecdsa", "sha512_rsa", "rsassa_pss", "rsassa_pkcs1v15"},
}
#: Unsigned attributes a genuine agency signature may carry.
UNSIGNED_ATTRIBUTES = {"signature_time_stamp_token"}


def structure_problems(signed_data: cms.SignedData) -> list[str]:
    """Inconsistencies in the unsigned framing of a SignedData (and its timestamps).

    Validators ignore much of this framing (the digestAlgorithms set, the
    versions, the crls field), so a changed byte there would leave a signature
    "valid". A genuine agency signature is exactly consistent; anything else
    means the container was altered.
    """
    problems: list[str] = []
    for container in [signed_data, *_timestamp_tokens(signed_data)]:
        content_type = container["encap_content_info"]["content_type"].native
        expected_version = "v1" if content_type == "data" else "v3"
        if container["version"].native != expected_version:
            problems.append(f"SignedData version {container['version'].native}")
        if container["crls"]:
            problems.append("unexpected CRL field")
        infos = list(container["signer_infos"])
        declared = sorted(a.dump() for a in container["digest_algorithms"])
        used = sorted({i["digest_algorithm"].dump() for i in infos})
        if declared != used:
            problems.append("digest algorithms differ from the signer's")
        for info in infos:
            if info["version"].native != "v1" or info["sid"].name != "issuer_and_serial_number":
                problems.append("unexpected signer identifier")
            digest = info["digest_algorithm"]["algorithm"].native
            signature = info["signature_algorithm"]["algorithm"].native
            if signature not in SIGNATURE_ALGORITHMS.get(digest, set()):
                problems.append(f"signature algorithm {signature} with digest {digest}")
            for attribute in info["unsigned_attrs"] or []:
                if attribute["type"].native not in UNSIGNED_ATTRIBUTES:
                    problems.append(f"unexpected unsigned attribute {attribute['type'].native}")
    return problems
