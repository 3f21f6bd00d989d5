"""Thai and English: locale choice, status words, and Buddhist Era dates.

Babel's Thai long date keeps the Gregorian year ("ค.ศ. 2026"); official Thai
use is the Buddhist Era year (CE + 543, "พ.ศ. 2569"), so ``format_date_be``
swaps the year and its label.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date as babel_format_date
from flask import Flask, Response, current_app, request
from flask_babel import Babel, get_locale, lazy_gettext

from .status import BANGKOK, AccreditationStatus

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


def current_lang() -> str:
    return str(get_locale() or "en")


def local_date(value: date) -> str:
    """A date for the current reader: Buddhist Era in Thai, Common Era in English."""
    return format_date_be(value, current_lang())


def local_time(value: datetime) -> str:
    """An instant as Bangkok wall-clock date and time, in the reader's language."""
    moment = value.astimezone(BANGKOK)
    return f"{local_date(moment.date())} {moment:%H:%M}"


def agency_name() -> str:
    config = current_app.config
    return config["AGENCY_NAME_TH"] if current_lang() == "th" else config["AGENCY_NAME_EN"]


def _remember_choice(response: Response) -> Response:
    chosen = request.args.get("lang")
    if chosen in LOCALES and request.cookies.get("lang") != chosen:
        response.set_cookie("lang", chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.after_request(_remember_choice)
    app.jinja_env.globals.update(
        status_label=status_label,
        local_date=local_date,
        local_time=local_time,
        agency_name=agency_name,
    )
    app.context_processor(lambda: {"lang": current_lang()})
