"""Open data: ``/exports/registry.{csv,json}`` and ``/feeds/status.atom``."""

from __future__ import annotations

import hashlib
import logging
import math
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, make_response, request, send_file
from flask_babel import gettext as _

from ..web import current
from ..web.caching import public_page
from ..web.problems import RETRY_AFTER, problem
from . import feeds, files

log = logging.getLogger(__name__)
bp = Blueprint("opendata", __name__)

MIMETYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _sent(fmt: str, now: datetime) -> tuple[files.ExportFile, Response]:
    """The current export as a response: its file is open before anything is sent.

    Between ``ensure`` and the open another worker may prune the file (a newer
    version was built): then the newer one is found and sent instead. Once
    open, a prune cannot cut the download short.
    """
    settings = current.settings()
    for attempt in range(3):
        built = files.ensure(
            current.database(), settings.instance, fmt, now, files.Publication.of(settings)
        )
        try:
            return built, send_file(
                built.path,
                mimetype=MIMETYPES[fmt],
                as_attachment=True,
                download_name=f"registry-{built.day.replace('-', '')}.{fmt}",
                etag=built.etag,
                conditional=True,
                max_age=300,
            )
        except FileNotFoundError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


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
    try:
        built, response = _sent(fmt, now)
    except files.ExportPending:
        return _not_now(
            "export_pending",
            _("The export is being prepared"),
            _("The register changed and its export is being written. Please try again shortly."),
            retry_after=max(1, math.ceil(files.BUILD_WAIT)),
        )
    except OSError:
        log.exception("the %s export could not be written", fmt)
        return _not_now(
            "export_unavailable",
            _("The export cannot be made just now"),
            _("It could not be written on the server. Please try again in a minute."),
        )
    response.cache_control.public = True
    response.headers["X-Register-Version"] = built.tag
    if built.stale_for is not None:
        # The newest complete file, while the current version's is written: whole and
        # consistent, but older, so said so (RFC 7234 Warning 110) and not kept by caches.
        response.headers["Warning"] = (
            f'110 - "export of register version {built.tag}; {built.stale_for} is being built"'
        )
        response.cache_control.max_age = 0
        response.cache_control.no_cache = True
    return licensed(response)


def _not_now(code: str, title: str, detail: str, retry_after: int = RETRY_AFTER) -> Response:
    """A 503 sent before any byte of an export: come back later, nothing was cut short."""
    response = make_response(problem(503, code, title, detail))
    response.headers["Retry-After"] = str(retry_after)
    response.cache_control.no_store = True
    return response


#: Database ids are 32-bit integers on PostgreSQL; a larger one is simply not found.
MAX_ID = 2**31 - 1
#: Archive pages once complete do not change: caches may keep them a day.
ARCHIVE_MAX_AGE = 86_400


def _lang() -> str:
    """A feed's language comes from its address alone (``?lang=th``), like its links."""
    return "th" if request.args.get("lang") == "th" else "en"


def _atom(body: bytes) -> Response:
    return licensed(Response(body, mimetype="application/atom+xml"))


@bp.get("/feeds/status.atom")
@public_page
def status_feed() -> Response:
    """The newest approved status decisions of the whole register (RFC 5005 subscription)."""
    settings = current.settings()
    feed = feeds.register_feed(settings)
    return _atom(feeds.subscription(current.session(), settings, feed, _lang()))


@bp.get(f"/feeds/cab/<int(max={MAX_ID}):cab_id>.atom")
@public_page
def cab_feed(cab_id: int) -> Response:
    """One body's decisions, on all its accreditations."""
    feed = feeds.cab_feed(current.session(), cab_id)
    if feed is None:
        abort(404)
    return _atom(feeds.subscription(current.session(), current.settings(), feed, _lang()))


@bp.get("/feeds/a/<number>.atom")
@public_page
def accreditation_feed(number: str) -> Response:
    """One accreditation's decisions."""
    feed = feeds.accreditation_feed(current.session(), number)
    if feed is None:
        abort(404)
    return _atom(feeds.subscription(current.session(), current.settings(), feed, _lang()))


@bp.get(f"/feeds/status/archive/<int(min=1, max={MAX_ID}):page>.atom", defaults={"kind": "status"})
@bp.get(
    f"/feeds/cab/<int(max={MAX_ID}):cab_id>/archive/<int(min=1, max={MAX_ID}):page>.atom",
    defaults={"kind": "cab"},
)
@bp.get(
    f"/feeds/a/<number>/archive/<int(min=1, max={MAX_ID}):page>.atom",
    defaults={"kind": "a"},
)
def feed_archive(kind: str, page: int, cab_id: int = 0, number: str = "") -> Response:
    """An archive page (RFC 5005): fixed once complete, so its ETag is its content's digest."""
    session, settings = current.session(), current.settings()
    if kind == "cab":
        feed = feeds.cab_feed(session, cab_id)
    elif kind == "a":
        feed = feeds.accreditation_feed(session, number)
    else:
        feed = feeds.register_feed(settings)
    body = None if feed is None else feeds.archive(session, settings, feed, page, _lang())
    if body is None:
        abort(404)
    response = _atom(body)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = ARCHIVE_MAX_AGE
    return response.make_conditional(request)


def licensed(response: Response) -> Response:
    """Name the open-data licence (RFC 8288 ``rel="license"``): a CSV has nowhere else."""
    response.headers["Link"] = f'<{current.settings().data_licence_url}>; rel="license"'
    return response
