"""``/api/v1``: the JSON twin of every public page, and its OpenAPI 3.1 document.

The API routes call the page views themselves with JSON forced, so a page and
its API answer are one computation. ``openapi.py`` holds the document a test
validates every response against.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from ..pages import views as public
from ..verification import views as verification
from ..web import current
from ..web.problems import problem
from .openapi import openapi_document, query_choices

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: ``<int:cab_id>`` in a Flask rule is ``{cab_id}`` in an OpenAPI path.
_RULE_PART = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@lru_cache(maxsize=64)
def known_parameters(rule: str) -> dict[str, tuple[str, ...] | None]:
    return query_choices(openapi_document(), _RULE_PART.sub(r"{\1}", rule))


@bp.before_request
def refuse_unknown_parameters() -> Any:
    """A misspelt parameter (``per-page``, ``stauts``) is an error, not silently ignored.

    So is a parameter given twice (which one would count?) and a value outside
    the list the document gives (``lang=fr``). The known parameters and their
    values are those the OpenAPI document lists, so the document and the check
    cannot disagree.
    """
    rule = request.url_rule
    if rule is None or request.method not in ("GET", "HEAD"):
        return None
    known = known_parameters(rule.rule)
    unknown = sorted(set(request.args) - set(known))
    if unknown:
        return problem(
            400,
            "unknown_parameter",
            _("Unknown query parameter"),
            _(
                "Not a parameter here: %(unknown)s. Known parameters: %(known)s.",
                unknown=", ".join(u[:40] for u in unknown[:5]),
                known=", ".join(known) or _("none"),
            ),
        )
    for name, values in request.args.lists():
        if len(values) > 1:
            return problem(
                400,
                "repeated_parameter",
                _("This request cannot be answered"),
                _("The parameter %(name)s is given more than once.", name=name),
            )
        allowed = known[name]
        if allowed is not None and values[0] not in allowed:
            return problem(
                400,
                "bad_parameter",
                _("This request cannot be answered"),
                _(
                    "The parameter %(name)s must be one of: %(allowed)s.",
                    name=name,
                    allowed=", ".join(v or '""' for v in allowed),
                ),
            )
    return None


@bp.get("/search")
def search() -> Any:
    return public.index()


@bp.get("/cabs/<int:cab_id>")
def cab(cab_id: int) -> Any:
    return public.cab(cab_id)


@bp.get("/accreditations/<number>")
def accreditation(number: str) -> Any:
    return public.accreditation(number)


@bp.get("/certificates/<accreditation>/<revision>")
def certificate(accreditation: str, revision: str) -> Any:
    return public.certificate(f"{accreditation}/{revision}")


@bp.get("/qr/<path:token>")
def qr(token: str) -> Any:
    return public.qr_landing(token)


@bp.get("/verify")
def verify_offer() -> Any:
    """What the verifier takes (``POST`` here verifies): the JSON twin of ``/verify``."""
    return verification.offer()


@bp.get("/openapi.json")
def openapi() -> Any:
    settings = current.settings()
    response = jsonify(openapi_document(settings.data_licence, settings.data_licence_url))
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
