"""Every error as the one problem shape: a page for people, JSON for programs.

No stack trace ever reaches a client; a 500 says that something went wrong
in plain words and is logged in full on the server.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from flask import Flask, make_response, render_template
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlTimeoutError
from werkzeug.exceptions import HTTPException

from .i18n import explain
from .limits import limiter
from .negotiation import wants_json
from .parameters import BadParameter

log = logging.getLogger(__name__)


def problem(status: int, code: str, title: str, detail: str) -> Any:
    """One error shape: a page for people, ``{"error": {...}}`` for programs."""
    if wants_json():
        return {"error": {"code": code, "title": title, "detail": detail}}, status
    return render_template("problem.html", title=title, detail=detail), status


def refused(exc: Exception) -> Any:
    """A request that cannot be answered as asked (400), saying why."""
    return problem(400, "bad_request", _("This request cannot be answered"), str(exc))


def _bad_parameter(exc: BadParameter) -> Any:
    return problem(400, "bad_parameter", _("This request cannot be answered"), explain(exc))


def _http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    titles = {
        404: (_("Page not found"), _("Check the address, or search the register.")),
        405: (_("Method not allowed"), _("This address does not accept that kind of request.")),
        413: (
            _("The upload is too large"),
            _("Send smaller files, or fewer at a time (certificates are far below the limit)."),
        ),
        414: (
            _("The address is too long"),
            _("Shorten the address: search with fewer or shorter words."),
        ),
    }
    title, detail = titles.get(code, (exc.name, exc.description or exc.name))
    code_name = exc.name.lower().replace(" ", "_")
    body, status = problem(code, code_name, title, detail)
    response = make_response(body, status)
    # What Werkzeug would have sent: above all ``Allow`` on a 405 (RFC 9110 requires it).
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _rate_limited(exc: RateLimitExceeded) -> Any:
    body, status = problem(
        429,
        "rate_limited",
        _("Too many requests"),
        _("Please wait a little before trying again."),
    )
    current = limiter.current_limit
    wait = max(1, math.ceil(current.reset_at - time.time())) if current else 60
    response = make_response(body, status)
    response.headers["Retry-After"] = str(wait)
    return response


def server_error() -> Any:
    """The 500 answer: what happened in plain words; the trace stays in the server log."""
    return problem(
        500,
        "server_error",
        _("Something went wrong on our side"),
        _("The error has been logged. Please try again later."),
    )


def _server_error(exc: Exception) -> Any:
    return server_error()


#: The database could not be reached, or did not answer within the request's budget
#: (``db.make_engine``): a 503 that says so, never a 500 or a page that hangs.
UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, SqlTimeoutError)
#: Seconds a client is asked to wait before trying again.
RETRY_AFTER = 30


def unavailable() -> Any:
    body, status = problem(
        503,
        "database_unavailable",
        _("The register cannot be reached just now"),
        _("Its database did not answer in time. Please try again in a minute."),
    )
    response = make_response(body, status)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    response.cache_control.no_store = True
    return response


def _unavailable(exc: Exception) -> Any:
    log.warning("database unavailable: %s", str(exc).strip().splitlines()[0][:300])
    return unavailable()


def init_app(app: Flask) -> None:
    app.register_error_handler(BadParameter, _bad_parameter)
    for error in UNAVAILABLE:
        app.register_error_handler(error, _unavailable)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
