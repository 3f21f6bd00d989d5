"""Where a typed identifier lands: the record it names, whatever its status.

People paste numbers as they find them: in lower case, with or without the
certificate's ``/R<n>`` revision, into whichever box is nearer. A number names
one record, so it opens that record rather than a list of search hits, and a
suspended, withdrawn or expired record opens like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..certificates.models import Certificate
from ..register.models import Cab
from ..search.query import public_accreditation
from ..search.text import clean_text

#: ``Testing-0002/R2``: an accreditation number, then the revision.
_REVISION = re.compile(r"^(?P<accreditation>[^/\s]+)/r(?P<revision>[0-9]{1,6})$", re.IGNORECASE)
#: A juristic-person id as printed: 13 digits, maybe grouped by spaces or dashes.
_JURISTIC = re.compile(r"^[0-9][0-9 -]{11,20}[0-9]$")


class Kind(StrEnum):
    ACCREDITATION = "accreditation"
    CERTIFICATE = "certificate"
    CAB = "cab"


@dataclass(frozen=True)
class Landing:
    """The record an identifier names: its kind and its key as the register spells it."""

    kind: Kind
    key: str


def landing_for(session: Session, typed: str, now: datetime) -> Landing | None:
    """The record ``typed`` names, or None when it is not an identifier in the register."""
    text = clean_text(typed)
    if len(text) > 80 or not any(c.isdigit() for c in text):
        return None  # every identifier has digits: a plain search costs no lookup
    if _JURISTIC.match(text):
        digits = re.sub(r"[ -]", "", text)
        if len(digits) == 13:
            cab_id = session.scalar(select(Cab.id).where(Cab.national_id == digits))
            if cab_id is not None:
                return Landing(Kind.CAB, str(cab_id))
    if " " in text:
        return None  # numbers have no spaces: this is a search
    revision = _REVISION.match(text)
    if revision is not None:
        found = public_accreditation(session, revision["accreditation"], now)
        if found is None:
            return None
        number = session.scalar(
            select(Certificate.number).where(
                Certificate.accreditation_id == found[0],
                Certificate.revision == int(revision["revision"]),
            )
        )
        return None if number is None else Landing(Kind.CERTIFICATE, number)
    found = public_accreditation(session, text, now)
    return None if found is None else Landing(Kind.ACCREDITATION, found[1])
