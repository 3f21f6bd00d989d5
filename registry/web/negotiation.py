"""Every page has a JSON twin: one dictionary, rendered as HTML or sent as JSON."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header


def json_wanted(environ: dict[str, Any], args: dict[str, list[str]]) -> bool:
    """JSON for ``/api/...`` and log proofs, ``?format=json`` or ``Accept: application/json``."""
    if environ.get("PATH_INFO", "").startswith(("/api/", "/log/proof/")):
        return True
    if args.get("format", [""])[0] == "json":
        return True
    accept = parse_accept_header(environ.get("HTTP_ACCEPT"), MIMEAccept)
    return accept.best_match(["text/html", "application/json"]) == "application/json"


def wants_json() -> bool:
    return json_wanted(request.environ, request.args.to_dict(flat=False))


def respond(data: dict[str, Any], template: str) -> Any:
    """The page, or its JSON twin: the same dictionary either way."""
    if wants_json():
        return data
    return render_template(template, **data)
