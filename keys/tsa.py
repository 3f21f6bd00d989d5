"""The agency's RFC 3161 time-stamping authority, in-process.

pyHanko's ``DummyTimeStamper`` is a test tool and signs with RSA only. This
one issues real tokens with whatever key the PKI uses: a TSTInfo with a random
serial, the agency policy, one-second accuracy and the request's nonce,
signed as CMS SignedData with signing-certificate-v2 by the TSA certificate.
The CMS is assembled from DER parts rather than through pyHanko's general
signer or asn1crypto's mutable objects: both re-encode (and re-sort) the
certificates and attributes on every token, which cost 7 ms against 0.3 ms.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, tsp, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps import TimeStamper

from .errors import PkiError
from .pki import Pki
from .stores import to_asn1


class AgencyTimeStamper(TimeStamper):
    def __init__(self, pki: Pki) -> None:
        super().__init__(include_nonce=True)
        self.pki = pki
        self._key = pki.key("tsa")
        cert = to_asn1(pki.tsa)
        self._cert = cert
        # Built and encoded once: re-encoding certificates dominated the cost of a token.
        self._cert_set = cms.CertificateSet(
            [
                cms.CertificateChoices({"certificate": c})
                for c in (cert, *(to_asn1(c) for c in pki.chain()))
            ]
        )
        # Everything that is the same for every token is encoded once, here.
        template = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [{"algorithm": "sha256"}],
                "encap_content_info": {"content_type": "data"},
                "certificates": self._cert_set,
                "signer_infos": [],
            }
        )
        self._signed_data_head = template["version"].dump() + template["digest_algorithms"].dump()
        self._cert_field = template["certificates"].dump()
        sid = cms.SignerIdentifier(
            {
                "issuer_and_serial_number": {
                    "issuer": cert.issuer,
                    "serial_number": cert.serial_number,
                }
            }
        )
        self._signer_info_head = (
            core.Integer(1).dump()
            + sid.dump()
            + algos.DigestAlgorithm({"algorithm": "sha256"}).dump()
        )
        self._content_type_attr = simple_cms_attribute("content_type", "tst_info").dump()
        self._signing_certificate_attr = simple_cms_attribute(
            "signing_certificate_v2", as_signing_certificate_v2(cert, "sha256")
        ).dump()
        self._tsa_name = x509.GeneralName({"directory_name": cert.subject})
        self._tsa_name.dump()
        ec_key = isinstance(self._key, ec.EllipticCurvePrivateKey)
        self._signature_algorithm_der = algos.SignedDigestAlgorithm(
            {"algorithm": "sha256_ecdsa" if ec_key else "sha256_rsa"}
        ).dump()

    def _sign(self, data: bytes) -> bytes:
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]

    def token(
        self, imprint: tsp.MessageImprint, nonce: int | None, policy: str | None, now: datetime
    ) -> cms.ContentInfo:
        """A signed TimeStampToken (CMS SignedData over a TSTInfo).

        ``policy`` other than the agency's own is refused here as well: a token
        never names a policy the TSA does not issue under.
        """
        own = self.pki.config.tsa_policy_oid
        if policy is not None and policy != own:
            raise PkiError(f"the TSA issues tokens under policy {own} only, not {policy}")
        info = {
            "version": "v1",
            "policy": own,
            "message_imprint": imprint,
            "serial_number": int.from_bytes(secrets.token_bytes(16), "big"),
            "gen_time": now.replace(microsecond=0),
            "accuracy": {"seconds": 1},
            "ordering": False,
            "tsa": self._tsa_name,
        }
        if nonce is not None:
            info["nonce"] = nonce
        tst_info = tsp.TSTInfo(info).dump()
        # Signed attributes, as the DER SET that is signed; SET OF members are
        # sorted by their encoding (X.690 11.6).
        attributes = sorted(
            [
                self._content_type_attr,
                self._signing_certificate_attr,
                simple_cms_attribute("signing_time", cms.Time({"utc_time": now})).dump(),
                simple_cms_attribute("message_digest", hashlib.sha256(tst_info).digest()).dump(),
            ]
        )
        signed_attrs = b"".join(attributes)
        signature = self._sign(_tlv(0x31, signed_attrs))
        signer_info = _tlv(
            0x30,
            self._signer_info_head
            + _tlv(0xA0, signed_attrs)
            + self._signature_algorithm_der
            + core.OctetString(signature).dump(),
        )
        # SignedData is assembled from encoded parts: asn1crypto would otherwise
        # copy and re-encode the certificate set for every token.
        signed_data = _tlv(
            0x30,
            self._signed_data_head
            + cms.EncapsulatedContentInfo(
                {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_info)}
            ).dump()
            + self._cert_field
            + _tlv(0x31, signer_info),
        )
        return cms.ContentInfo.load(_tlv(0x30, SIGNED_DATA_OID + _tlv(0xA0, signed_data)))

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        now = datetime.now(UTC)
        self.pki.check_usable(self.pki.tsa, now, "TSA")
        token = self.token(req["message_imprint"], req["nonce"].native, None, now)
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})

    def respond(self, request_der: bytes) -> bytes:
        """Answer a DER ``TimeStampReq`` (the HTTP route); bad requests are rejected."""
        import asyncio

        try:
            req = tsp.TimeStampReq.load(request_der)
            req.native  # noqa: B018  (forces a full parse)
            algorithm = req["message_imprint"]["hash_algorithm"]["algorithm"].native
            digest = req["message_imprint"]["hashed_message"].native
            if algorithm not in ("sha256", "sha384", "sha512") or len(digest) not in (32, 48, 64):
                return rejection("bad_alg", "only SHA-2 message imprints are accepted")
            policy = req["req_policy"].native
            extensions = req["extensions"].native
        except (ValueError, TypeError, KeyError):
            return rejection("bad_request", "the request is not a DER TimeStampReq")
        # RFC 3161 2.4.1: a policy the TSA does not issue under, or any extension
        # it does not know (critical or not), is refused rather than ignored.
        own = self.pki.config.tsa_policy_oid
        if policy is not None and policy != own:
            return rejection("unaccepted_policy", f"this TSA issues tokens under policy {own} only")
        if extensions:
            return rejection("unaccepted_extensions", "this TSA accepts no request extensions")
        try:
            return asyncio.run(self.async_request_tsa_response(req)).dump()
        except PkiError as exc:
            return rejection("system_failure", str(exc))


SIGNED_DATA_OID = core.ObjectIdentifier("1.2.840.113549.1.7.2").dump()


def _tlv(tag: int, content: bytes) -> bytes:
    """DER tag-length-value for one constructed element."""
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


class _StatusOnly(core.Sequence):
    """A TimeStampResp without a token (asn1crypto's class insists on one)."""

    _fields = [("status", tsp.PKIStatusInfo)]  # noqa: RUF012


def rejection(failure: str, text: str) -> bytes:
    return _StatusOnly(
        {
            "status": {
                "status": "rejection",
                "status_string": [text],
                "fail_info": tsp.PKIFailureInfo({failure}),
            }
        }
    ).dump()
