"""Open data: ``/exports/registry.{csv,json}`` and ``/feeds/status.atom``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Response, make_response, request, send_file
from flask_babel import gettext as _

from ..web import current
from ..web.caching import public_page
from ..web.problems import RETRY_AFTER, problem
from . import feeds, files

log = logging.getLogger(__name__)
bp = Blueprint("opendata", __name__)

MIMETYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@bp.get("/exports/registry.<any(csv, json):fmt>")
def export(fmt: str) -> Response:
    """The whole register, as a file built once per register version.

    The file is complete on disk before its first byte is sent, so the answer
    carries its ``Content-Length`` and a strong ``ETag`` (304 on a match): a
    client can tell a short download from a whole one. A database that cannot
    be reached gives the 503 of ``web.problems`` before anything is sent; so
    does a build that fails on disk.
    """
    now = datetime.now(UTC)
    settings = current.settings()
    publication = files.Publication(
        publisher={
            "name_en": settings.agency_name_en,
            "name_th": settings.agency_name_th,
            "short": settings.agency_short,
        },
        licence={"name": settings.data_licence, "url": settings.data_licence_url},
        base=settings.public_url.rstrip("/"),
    )
    try:
        built = files.ensure(current.database(), settings.instance, fmt, now, publication)
    except OSError:
        log.exception("the %s export could not be written", fmt)
        response = make_response(
            problem(
                503,
                "export_unavailable",
                _("The export cannot be made just now"),
                _("It could not be written on the server. Please try again in a minute."),
            )
        )
        response.headers["Retry-After"] = str(RETRY_AFTER)
        response.cache_control.no_store = True
        return response
    response = send_file(
        built.path,
        mimetype=MIMETYPES[fmt],
        as_attachment=True,
        download_name=f"registry-{built.day.replace('-', '')}.{fmt}",
        etag=built.etag,
        conditional=True,
        max_age=300,
    )
    response.cache_control.public = True
    return licensed(response)


@bp.get("/feeds/status.atom")
@public_page
def status_feed() -> Response:
    """The latest approved status decisions, newest first."""
    body = feeds.status_feed(current.session(), current.settings(), request.path)
    return licensed(Response(body, mimetype="application/atom+xml"))


def licensed(response: Response) -> Response:
    """Name the open-data licence (RFC 8288 ``rel="license"``): a CSV has nowhere else."""
    response.headers["Link"] = f'<{current.settings().data_licence_url}>; rel="license"'
    return response
