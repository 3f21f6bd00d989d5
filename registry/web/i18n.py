"""Thai and English on the pages: locale choice, status words, dates for the reader.

Thai pages show Buddhist Era years (``dates.format_date_be``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, request
from flask_babel import Babel, get_locale, gettext, lazy_gettext
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from ..dates import BANGKOK, format_date_be
from ..refusals import Refused
from ..register.programmes import Programme
from ..register.status import AccreditationStatus, EventKind
from . import current

LOCALES = ("en", "th")

STATUS_LABELS = {
    AccreditationStatus.PENDING: lazy_gettext("Pending"),
    AccreditationStatus.VALID: lazy_gettext("Valid"),
    AccreditationStatus.SUSPENDED: lazy_gettext("Suspended"),
    AccreditationStatus.PARTIALLY_SUSPENDED: lazy_gettext("Partially suspended"),
    AccreditationStatus.WITHDRAWN: lazy_gettext("Withdrawn"),
    AccreditationStatus.EXPIRED: lazy_gettext("Expired"),
}


#: Words for the other status codes a page shows: a document's, a scope item's.
OTHER_STATUS_LABELS = {
    "current": lazy_gettext("Current"),
    "superseded": lazy_gettext("Superseded"),
    "active": lazy_gettext("In scope"),
    "unknown": lazy_gettext("Unknown"),
}

PROGRAMME_LABELS = {
    Programme.TESTING: lazy_gettext("Testing laboratory"),
    Programme.CALIBRATION: lazy_gettext("Calibration laboratory"),
    Programme.MEDICAL: lazy_gettext("Medical laboratory"),
    Programme.INSPECTION: lazy_gettext("Inspection body"),
    Programme.MANAGEMENT_SYSTEMS: lazy_gettext("Management systems certification"),
    Programme.PRODUCT_CERTIFICATION: lazy_gettext("Product certification"),
    Programme.PERSONS_CERTIFICATION: lazy_gettext("Certification of persons"),
    Programme.PROFICIENCY_TESTING: lazy_gettext("Proficiency testing provider"),
    Programme.REFERENCE_MATERIALS: lazy_gettext("Reference material producer"),
}

EVENT_LABELS = {
    EventKind.GRANTED: lazy_gettext("Accreditation granted"),
    EventKind.RENEWED: lazy_gettext("Accreditation renewed"),
    EventKind.EXTENDED: lazy_gettext("Scope extended"),
    EventKind.REDUCED: lazy_gettext("Scope reduced"),
    EventKind.SUSPENDED: lazy_gettext("Suspended"),
    EventKind.REINSTATED: lazy_gettext("Reinstated"),
    EventKind.WITHDRAWN: lazy_gettext("Withdrawn by the agency"),
    EventKind.VOLUNTARILY_WITHDRAWN: lazy_gettext("Withdrawn at the body's request"),
}


def programme_label(value: str) -> str:
    try:
        return str(PROGRAMME_LABELS[Programme(value)])
    except ValueError:
        return value


def event_label(value: str) -> str:
    try:
        return str(EVENT_LABELS[EventKind(value)])
    except ValueError:
        return value


def query_args(query: Any, **changes: Any) -> str:
    """A search query's URL parameters with some changed, ready for ``?``."""
    return urlencode(query.as_args(**changes))


def scope_args(filters: dict[str, Any], page: int) -> str:
    values = {**filters, "page": page}
    return urlencode({k: v for k, v in values.items() if v})


def lang_switch(lang: str) -> str:
    """This page's parameters with ``lang`` changed: switching keeps the search."""
    values = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return urlencode([*values, ("lang", lang)])


def choose_locale(asked: str | None, cookie: str | None, accept_language: str | None) -> str:
    """``?lang=``, then the cookie, then ``Accept-Language``; English otherwise."""
    for chosen in (asked, cookie):
        if chosen in LOCALES:
            return chosen  # type: ignore[return-value]
    accepted = parse_accept_header(accept_language or "", LanguageAccept)
    return accepted.best_match(LOCALES) or "en"


def select_locale() -> str:
    return choose_locale(
        request.args.get("lang"),
        request.cookies.get("lang"),
        request.headers.get("Accept-Language"),
    )


def status_label(status: str) -> str:
    if status in OTHER_STATUS_LABELS:
        return str(OTHER_STATUS_LABELS[status])
    try:
        return str(STATUS_LABELS[AccreditationStatus(status)])
    except ValueError:
        return status


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
    found = current.settings()
    return found.agency_name_th if current_lang() == "th" else found.agency_name_en


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
        programme_label=programme_label,
        event_label=event_label,
        query_args=query_args,
        scope_args=scope_args,
        lang_switch=lang_switch,
        iso_date=date.fromisoformat,
        iso_time=datetime.fromisoformat,
    )
    app.context_processor(lambda: {"lang": current_lang(), "settings": current.settings()})


def explain(refusal: Refused) -> str:
    """A domain refusal in the reader's language (its template is in the catalogue)."""
    return gettext(refusal.template, **refusal.params)
