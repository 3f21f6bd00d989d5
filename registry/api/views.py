"""``/api/v1``: the JSON twin of every public page, and its OpenAPI 3.1 document.

The API routes call the page views themselves with JSON forced, so a page and
its API answer are one computation. ``openapi.py`` holds the document a test
validates every response against.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..pages import views as public
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


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


@bp.get("/openapi.json")
def openapi() -> Any:
    response = jsonify(openapi_document())
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
