"""Open data: ``/exports/registry.{csv,json}`` and ``/feeds/status.atom``."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, request, stream_with_context

from .. import version
from ..web import current
from ..web.caching import public_page
from . import feeds
from .exports import csv_lines, json_parts

bp = Blueprint("opendata", __name__)


@bp.get("/exports/registry.<any(csv, json):fmt>")
def export(fmt: str) -> Response:
    now = datetime.now(UTC)
    session = current.session()
    # Read before the 200 is sent: a database that cannot be reached is a 503 then,
    # not a file that stops after its header row.
    version.current(session, now)
    stamp = now.strftime("%Y%m%d")
    if fmt == "csv":
        body, mimetype = csv_lines(session, now), "text/csv"
    else:
        settings = current.settings()
        publisher = {
            "name_en": settings.agency_name_en,
            "name_th": settings.agency_name_th,
            "short": settings.agency_short,
        }
        licence = {"name": settings.data_licence, "url": settings.data_licence_url}
        body, mimetype = json_parts(session, now, publisher, licence), "application/json"
    response = Response(stream_with_context(body), mimetype=mimetype)
    licensed(response)
    response.headers["Content-Disposition"] = f'attachment; filename="registry-{stamp}.{fmt}"'
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


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
