"""The agency's RFC 3161 time-stamping authority, in-process.

pyHanko's ``DummyTimeStamper`` is a test tool and signs with RSA only. This
one issues real tokens with whatever key the PKI uses: a TSTInfo with a random
serial, the agency policy, one-second accuracy and the request's nonce,
signed as CMS SignedData with signing-certificate-v2 by the TSA certificate.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from asn1crypto import cms, core, tsp
from pyhanko.sign.timestamps import TimeStamper

from .errors import PkiError
from .pki import Pki
from .stores import LoadedKeySigner


class AgencyTimeStamper(TimeStamper):
    def __init__(self, pki: Pki, *, clock: type[datetime] = datetime) -> None:
        super().__init__(include_nonce=True)
        self.pki = pki
        key = pki.key("tsa")
        self._signer = LoadedKeySigner(key, pki.tsa, pki.chain())  # type: ignore[arg-type]
        self._clock = clock

    def _now(self) -> datetime:
        return self._clock.now(UTC)

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        now = self._now()
        self.pki.check_usable(self.pki.tsa, now, "TSA")
        imprint: tsp.MessageImprint = req["message_imprint"]
        info = {
            "version": "v1",
            "policy": req["req_policy"].native or self.pki.config.tsa_policy_oid,
            "message_imprint": imprint,
            "serial_number": int.from_bytes(secrets.token_bytes(16), "big"),
            "gen_time": now.replace(microsecond=0),
            "accuracy": {"seconds": 1},
            "ordering": False,
            "tsa": {"directory_name": self._signer.signing_cert.subject},
        }
        if req["nonce"].native is not None:
            info["nonce"] = req["nonce"]
        content = cms.EncapsulatedContentInfo(
            {
                "content_type": "tst_info",
                "content": cms.ParsableOctetString(tsp.TSTInfo(info).dump()),
            }
        )
        token = await self._signer.async_sign_general_data(
            content, "sha256", detached=False, use_cades=True
        )
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
        except (ValueError, TypeError, KeyError):
            return rejection("bad_request", "the request is not a DER TimeStampReq")
        try:
            return asyncio.run(self.async_request_tsa_response(req)).dump()
        except PkiError as exc:
            return rejection("system_failure", str(exc))


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
