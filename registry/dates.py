"""Days as the register counts them: Bangkok calendar days, and Thai Buddhist Era years.

Dates in the register are Thai calendar days, so every comparison happens on
the date in Asia/Bangkok. Babel's Thai long date keeps the Gregorian year
("ค.ศ. 2026"); official Thai use is the Buddhist Era year (CE + 543,
"พ.ศ. 2569"), so ``format_date_be`` swaps the year and its label.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543


def local_date(at: datetime) -> date:
    """The calendar day in Bangkok at instant ``at`` (which must be timezone-aware)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a status is asked for at an aware datetime, not a naive one")
    return at.astimezone(BANGKOK).date()


def format_date_be(value: date, locale: str = "th", format: str = "long") -> str:
    """A date in ``locale``; in Thai the year is Buddhist Era with the พ.ศ. label."""
    if locale != "th":
        return babel_format_date(value, format=format, locale=locale)
    pattern = {"long": "d MMMM", "medium": "d MMM", "short": "d/M"}[format]
    head = babel_format_date(value, format=pattern, locale="th")
    year = value.year + BE_OFFSET
    if format == "short":
        return f"{head}/{year}"
    return f"{head} พ.ศ. {year}"
