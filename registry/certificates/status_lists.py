"""Building the signed status list from the register, and keeping it fresh.

The list is rebuilt when anything it depends on changes: the register's
version (every issuance and decision moves it) or the Bangkok calendar day
(expiry and suspension end dates are day-based).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.pki import Pki
from verifier.report import CertificateStatus
from verifier.status_list import encode_status_list

from .. import version
from ..register.standings import standings
from ..register.status import document_status
from .models import Certificate

_lock = Lock()
_cache: dict[str, tuple[str, bytes, datetime]] = {}


def certificate_statuses(session: Session, now: datetime) -> dict[int, CertificateStatus]:
    rows = session.execute(
        select(
            Certificate.accreditation_id, Certificate.revision, Certificate.status_list_index
        ).where(Certificate.status_list_index.is_not(None))
    ).all()
    latest: dict[int, int] = defaultdict(int)
    for acc_id, revision, _ in rows:
        latest[acc_id] = max(latest[acc_id], revision)
    found = standings(session, now, list(latest)) if latest else {}
    return {
        index: document_status(found[acc_id], latest=revision == latest[acc_id])
        for acc_id, revision, index in rows
    }


def signed_status_list(
    session: Session, pki: Pki, issuer: str, now: datetime
) -> tuple[bytes, datetime]:
    """The current signed list and its date, rebuilt only when the register changed."""
    key = str(pki.folder)
    current = version.current(session, now).tag
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == current:
            return cached[1], cached[2]
    data = encode_status_list(certificate_statuses(session, now), issuer, now, pki.qr_signing_jwk())
    with _lock:
        _cache[key] = (current, data, now)
    return data, now
