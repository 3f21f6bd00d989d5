"""A validation report a customs officer can file: what was checked, what the register said, when.

For each verified file there is a JSON document (format
``accredit-validation-report/1``) and a PDF that prints it in English and
Thai and carries the same JSON as an attachment. Signed by the register, the
document is a COSE_Sign1 (ES256) over its canonical JSON, with the agency's QR
key published at ``/pki/jwks.json``: anyone can check it offline with
``verify_signed_report`` and the JWK set. Made by a verifier with no agency
key (``accredit verify --bundle`` on a laptop), it is written unsigned and
says so: only the agency can vouch for a report.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cwt import COSE, COSEKey
from cwt.exceptions import CWTError

from .errors import VerifierError
from .report import Report

FORMAT = "accredit-validation-report/1"
#: COSE header labels (RFC 9052): algorithm, key ID, content type.
HEADER_ALG, HEADER_KID, HEADER_CONTENT_TYPE = 1, 4, 3
ALG_ES256 = -7
UNSIGNED = (
    "unsigned: made by a verifier without the agency's key; only the agency can vouch for a report"
)


def report_document(
    report: Report,
    *,
    pdf: bytes,
    checked_at: datetime,
    register: Mapping[str, Any] | None,
    issuer: str,
    registry: str | None,
) -> dict[str, Any]:
    """The facts of one verification, as plain JSON values."""
    return {
        "format": FORMAT,
        "issuer": issuer,
        "registry": registry,
        "checked_at": checked_at.isoformat(timespec="seconds"),
        "file": {"name": report.filename, "sha256": hashlib.sha256(pdf).hexdigest()},
        "answer": {
            "verdict": report.verdict.value,
            "document": report.document.value,
            "status": report.status.value,
            "headline": report.headline.as_json(),
        },
        "report": report.as_json(),
        "register": dict(register) if register is not None else None,
    }


def canonical(document: Mapping[str, Any]) -> bytes:
    """The signed bytes: sorted keys, no whitespace, UTF-8 (RFC 8785 for these values)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_report(document: Mapping[str, Any], jwk: Mapping[str, Any] | None) -> bytes:
    """The report file: the document and its COSE_Sign1, or the document marked unsigned."""
    if jwk is None:
        signature: dict[str, Any] = {"unsigned": UNSIGNED}
    else:
        key = COSEKey.from_jwk(dict(jwk))
        message = COSE.new().encode_and_sign(
            canonical(document),
            key,
            protected={
                HEADER_ALG: ALG_ES256,
                HEADER_KID: str(jwk["kid"]).encode(),
                HEADER_CONTENT_TYPE: "application/json",
            },
        )
        signature = {
            "alg": "ES256",
            "kid": str(jwk["kid"]),
            "keys": "/pki/jwks.json",
            "cose_sign1": base64.b64encode(message).decode(),
        }
    return json.dumps(
        {"document": document, "signature": signature}, ensure_ascii=False, indent=1
    ).encode()


def verify_signed_report(data: bytes, keys: Mapping[str, Any]) -> dict[str, Any]:
    """The report's document, if the agency's key signed exactly it; raises otherwise."""
    try:
        found = json.loads(data)
        document, signature = found["document"], found["signature"]
        kid = signature["kid"]
        message = base64.b64decode(signature["cose_sign1"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise VerifierError(f"not a signed validation report: {exc}") from exc
    jwk = next((k for k in keys.get("keys", []) if k.get("kid") == kid), None)
    if jwk is None:
        raise VerifierError(f"the report was signed with an unknown key ({str(kid)[:40]})")
    public = {k: v for k, v in jwk.items() if k != "d"}
    try:
        payload = COSE.new().decode(message, COSEKey.from_jwk(public))
    except CWTError as exc:
        raise VerifierError("the report's signature does not verify") from exc
    if payload != canonical(document):
        raise VerifierError("the report's document is not the one that was signed")
    return dict(document)
