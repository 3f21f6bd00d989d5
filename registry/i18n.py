"""Thai and English: locale choice, status words, and Buddhist Era dates.

Babel's Thai long date keeps the Gregorian year ("ค.ศ. 2026"); official Thai
use is the Buddhist Era year (CE + 543, "พ.ศ. 2569"), so ``format_date_be``
swaps the year and its label.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date as babel_format_date
from flask import Flask, request
from flask_babel import Babel, lazy_gettext
from markupsafe import Markup

from .status import AccreditationStatus

LOCALES = ("en", "th")
BE_OFFSET = 543

STATUS_LABELS = {
    AccreditationStatus.PENDING: lazy_gettext("Pending"),
    AccreditationStatus.VALID: lazy_gettext("Valid"),
    AccreditationStatus.SUSPENDED: lazy_gettext("Suspended"),
    AccreditationStatus.PARTIALLY_SUSPENDED: lazy_gettext("Partially suspended"),
    AccreditationStatus.WITHDRAWN: lazy_gettext("Withdrawn"),
    AccreditationStatus.EXPIRED: lazy_gettext("Expired"),
}


def select_locale() -> str:
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or "en"


def status_label(status: str) -> str:
    try:
        return str(STATUS_LABELS[AccreditationStatus(status)])
    except ValueError:
        return status


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


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["status_label"] = status_label
    app.jinja_env.filters["be_date"] = lambda d, locale="th": Markup.escape(
        format_date_be(d, locale)
    )
