"""Who the agency is, how to reach it, and how to trust its signatures.

The warnings elsewhere say "contact the agency": these pages are where that
leads. Both have JSON twins built from the settings and the instance's own PKI,
so the fingerprint a reader compares is the one this server signs with.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from flask import Blueprint, redirect, url_for

from ..pki.material import get_pki
from ..settings import Settings
from ..web import current
from ..web.caching import public_page
from ..web.negotiation import respond

bp = Blueprint("about", __name__)

#: The nickname the trust page's commands give the root in an NSS database.
NSS_NICKNAME = "accredit-root"
#: NSS trust flags are SSL,S/MIME,object-signing; pdfsig checks a PDF signer
#: as an S/MIME (email) signer, so the root is trusted in the middle slot only.
#: "C,," (websites) leaves pdfsig saying "issuer isn't Trusted"; trusting it for
#: websites as well would give the agency's key more power than it needs.
NSS_TRUST = ",C,"


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER, as Acrobat, Firefox and ``certutil -L`` print it: AB:CD:..."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def agency_json(settings: Settings) -> dict[str, Any]:
    return {
        "name_en": settings.agency_name_en,
        "name_th": settings.agency_name_th,
        "short": settings.agency_short,
        "address_en": settings.agency_address_en,
        "address_th": settings.agency_address_th,
        "phone": settings.agency_phone,
        "email": settings.agency_email,
        "website": settings.agency_website,
        "report_email": settings.agency_report_email,
    }


@bp.get("/about")
@public_page
def about() -> Any:
    settings = current.settings()
    data = {
        "agency": agency_json(settings),
        "recognition": [r.as_json() for r in settings.recognition],
        "links": {
            "verify": url_for("verify.page"),
            "trust": url_for("about.trust"),
            "search": url_for("public.index"),
            "api": url_for("api.openapi"),
        },
    }
    return respond(data, "about.html")


@bp.get("/contact")
def contact() -> Any:
    """The address people guess first."""
    return redirect(url_for("about.about"), 301)


@bp.get("/trust")
@public_page
def trust() -> Any:
    root = get_pki().root
    cn = root.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    data = {
        "root": {
            "subject": root.subject.rfc4514_string(),
            "common_name": str(cn[0].value) if cn else root.subject.rfc4514_string(),
            "sha256": fingerprint(root),
            "not_before": root.not_valid_before_utc.isoformat(timespec="seconds"),
            "not_after": root.not_valid_after_utc.isoformat(timespec="seconds"),
            "pem": url_for("pki.certificate_pem", name="root"),
            "der": url_for("pki.certificate", name="root"),
        },
        "nss_nickname": NSS_NICKNAME,
        "nss_trust": NSS_TRUST,
        "nss_commands": [
            "mkdir -p $HOME/.pki/nssdb",
            "certutil -d sql:$HOME/.pki/nssdb -N --empty-password",
            f'certutil -d sql:$HOME/.pki/nssdb -A -t "{NSS_TRUST}" -n {NSS_NICKNAME} -i root.pem',
            f"certutil -d sql:$HOME/.pki/nssdb -L -n {NSS_NICKNAME}",
            "pdfsig certificate.pdf",
        ],
    }
    return respond(data, "trust.html")
