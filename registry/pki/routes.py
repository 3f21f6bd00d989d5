"""``/pki``: CA certificates, CRLs, OCSP and the time-stamping authority.

The logic lives in ``keys``; these views only move bytes with the right media
types. Relying parties (NSS, Acrobat, pyHanko) fetch these URLs from the
certificates' CRL distribution points and authority information access.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp
from flask import Blueprint, Response, abort, jsonify, request
from flask_babel import gettext as _

from keys.revocation import answer_ocsp_request, current_crl, unsuccessful
from keys.tsa import AgencyTimeStamper

from ..web import current
from ..web.problems import problem
from .material import get_pki, log_key

bp = Blueprint("pki", __name__, url_prefix="/pki")
log = logging.getLogger(__name__)

MAX_REQUEST = 16 * 1024


def _der(data: bytes, media_type: str, max_age: int = 3600) -> Response:
    response = Response(data, mimetype=media_type)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response


@bp.get("/<any(root, issuing, tsa, ocsp):name>.crt")
def certificate(name: str) -> Response:
    cert = getattr(get_pki(), name)
    return _der(cert.public_bytes(serialization.Encoding.DER), "application/pkix-cert", 86400)


@bp.get("/<any(root, issuing, tsa, ocsp):name>.pem")
def certificate_pem(name: str) -> Response:
    cert = getattr(get_pki(), name)
    return _der(cert.public_bytes(serialization.Encoding.PEM), "application/x-pem-file", 86400)


@bp.get("/<any(root, issuing):name>.crl")
def crl(name: str) -> Response:
    return _der(current_crl(get_pki(), name), "application/pkix-crl", 600)


def _ocsp(data: bytes) -> Response:
    """An OCSP response whatever happens: clients (NSS, pyHanko) parse the body, not a page.

    ``answer_ocsp_request`` gives every request it can refuse its own status;
    should it fail all the same, the client gets ``internalError`` (RFC 6960
    2.3) and the server log gets the trace.
    """
    try:
        answer = answer_ocsp_request(get_pki(), data)
    except Exception:
        log.exception("OCSP request failed; answered internalError")
        answer = unsuccessful(ocsp.OCSPResponseStatus.INTERNAL_ERROR)
    return _der(answer, "application/ocsp-response", 0)


@bp.post("/ocsp")
def ocsp_post() -> Response:
    data = request.get_data(cache=False)
    if len(data) > MAX_REQUEST:
        abort(413)
    return _ocsp(data)


@bp.get("/ocsp/<path:encoded>")
def ocsp_get(encoded: str) -> Response:
    try:
        data = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        data = b""
    return _ocsp(data[:MAX_REQUEST])


def _internal_caller() -> bool:
    """The caller is this machine.

    This is the TCP peer, or the forwarded client when the peer is one of
    ``ACCREDIT_TRUSTED_PROXIES`` (``web.proxies``). Behind a reverse proxy on
    the same host that is not named there, every caller looks internal, so
    there the proxy must not pass ``/pki/tsa`` on (see the README).
    """
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.post("/tsa")
def tsa() -> Any:
    if not current.settings().tsa_public and not _internal_caller():
        return problem(
            403,
            "tsa_not_public",
            _("This time-stamping service is for the agency's own systems"),
            _("Use the time-stamping authority that your organisation has chosen."),
        )
    data = request.get_data(cache=False)
    if len(data) > MAX_REQUEST:
        abort(413)
    reply = AgencyTimeStamper(get_pki()).respond(data)
    return _der(reply, "application/timestamp-reply", 0)


@bp.get("/log.vkey")
def log_vkey() -> Response:
    """The transparency log's verifier key (C2SP signed-note vkey), for auditors and witnesses."""
    found = log_key(current.settings(), get_pki())
    response = Response(found.verifier.vkey() + "\n", mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/jwks.json")
def jwks() -> Response:
    response = jsonify(get_pki().qr_jwks())
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
