"""HTTP caching of public pages, keyed on the register's version, or on one body's.

A public page depends only on its URL, its variant (language or JSON) and the
register: ``version.peek`` gives a version that moves with every decision,
issuance and Bangkok day. So a page's ETag is a digest of those, and a
revalidation costs one tiny query. A record or QR page shows one body only
(``shows_body``): once it has been served, it is keyed on that body's version
(``version.of_body``), so a change to another body does not throw it away.

Rendered pages are also kept in memory and served by ``PageCacheMiddleware``
in front of Flask: a cache hit costs the version query, a dictionary lookup
and the bytes, which is what lets the QR landing page run near the speed of a
bare "hello world". Nothing stale is served while the register answers: the
version is read on every request, and the key contains it. When the database
cannot be reached, a record or QR page is answered from the last copy this
worker served (``stale-if-error``), marked "as of" that moment, never cached
downstream; with no copy, the 503 stands.
"""

from __future__ import annotations

import hashlib
import html
import json
import sys
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from threading import Lock
from typing import Any
from urllib.parse import parse_qs

from babel.support import Translations
from flask import Flask, Response, current_app, make_response, request
from werkzeug.http import http_date, is_resource_modified, parse_cookie, parse_date

from .. import version
from ..dates import BANGKOK, format_date_be
from ..db import Database
from ..refusals import N_
from . import current
from .i18n import choose_locale
from .negotiation import json_wanted
from .problems import UNAVAILABLE

MAX_AGE = 60
#: Each worker's page cache, keys and headers counted: ``make soak`` holds a worker to it.
PAGE_CACHE_BYTES = 64 * 1024 * 1024
#: Responses worth keeping; anything else is rendered every time. Not 404 or 400:
#: an unknown certificate number (or a junk QR token) is a new path each time,
#: and stored one by one they would push every real page out of the cache.
CACHEABLE = frozenset({200})
#: Headers never replayed from the cache: they belong to one request.
PER_REQUEST = frozenset({"set-cookie", "date", "content-length"})
KEY = "accredit.page_key"
#: The version the middleware keyed the request on, for ``public_page``'s ETag.
STATE = "accredit.page_version"
#: The body a page showed (``shows_body``).
BODY = "accredit.page_body"
#: Pages served from memory before Flask. Search and the API are left to Flask,
#: where the rate limiter sees every request.
SERVED_BEFORE_FLASK = ("/V/", "/v/", "/c/", "/a/", "/cab/", "/feeds/")


def variant_of(environ: dict[str, Any]) -> tuple[str, bool]:
    """The page's variant (``json``, ``en`` or ``th``) and whether a cookie must be set."""
    args = parse_qs(environ.get("QUERY_STRING", ""))
    cookie = parse_cookie(environ).get("lang")
    asked = args.get("lang", [None])[0]
    lang = choose_locale(asked, cookie, environ.get("HTTP_ACCEPT_LANGUAGE"))
    sets_cookie = asked is not None and asked == lang and cookie != asked
    return ("json" if json_wanted(environ, args) else lang), sets_cookie


def page_of(environ: dict[str, Any], variant: str) -> tuple[str, str, str]:
    """A page: its path, its query and its variant (language or JSON)."""
    return (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), variant)


def page_key(environ: dict[str, Any], variant: str, state: version.Version) -> tuple[str, ...]:
    """A page in one version: what the cache keys and the ETag digests."""
    return (*page_of(environ, variant), state.tag)


def etag_of(key: tuple[str, ...]) -> str:
    return hashlib.sha256("\0".join(key).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Stored:
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    etag: str
    last_modified: datetime | None
    #: When the register was read for this copy: what a stale answer says it is "as of".
    stored_at: datetime | None = None
    #: The one body the page shows (``shows_body``): its next request is keyed on
    #: that body's version (``version.of_body``), not on the whole register's.
    cab_id: int | None = None


#: Bytes of one entry beyond its strings and tuples: the ``Stored`` object and
#: its ``__dict__``, its datetime, the ``(value, size)`` pair and the
#: ``OrderedDict`` node (``sys.getsizeof`` and tracemalloc on CPython 3.11: 584).
ENTRY_OVERHEAD = 640


def entry_size(key: tuple[str, ...], value: Stored) -> int:
    """What one entry costs in memory: key, status, headers and ETag as well as the body.

    Counting the body alone, 201,000 random ``/c/`` paths (small pages, each
    with more bytes of key and headers than of body) grew a worker from 129 to
    322 MB under a 64 MiB budget (measured in issue 16).
    """
    strings = [*key, value.status, value.etag, *(part for pair in value.headers for part in pair)]
    tuples = [key, value.headers, *value.headers]
    return (
        ENTRY_OVERHEAD
        + sys.getsizeof(value.body)
        + sum(map(sys.getsizeof, strings))
        + sum(map(sys.getsizeof, tuples))
    )


class PageCache:
    """A byte-bounded LRU of rendered pages, one per process; ``used`` counts whole entries.

    Each page (path, query, variant) is kept in its newest register version only.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._items: OrderedDict[tuple[str, ...], tuple[Stored, int]] = OrderedDict()
        #: Per page (path, query, variant): the key of its newest stored copy.
        self._newest: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, path: object) -> bool:
        """Whether any variant of the page at ``path`` is stored (the key's first part)."""
        with self._lock:
            return any(key[0] == path for key in self._items)

    def get(self, key: tuple[str, ...]) -> Stored | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: tuple[str, ...], value: Stored) -> None:
        size = entry_size(key, value)
        if size > self.max_bytes // 8:
            return
        with self._lock:
            newest = self._items.get(self._newest.get(key[:-1], key))
            if newest is not None and _read_later(newest[0], value):
                return  # a slower thread's older copy: the newer one stays
            # The same page of an older register version is never asked for again
            # (every request reads the version first), and ``newest`` wants only
            # this one: kept, a register changing every second filled the budget
            # with dead copies, and the workers grew 15 % over a 10-minute soak.
            for gone in {key, self._newest.get(key[:-1], key)}:
                old = self._items.pop(gone, None)
                if old is not None:
                    self.used -= old[1]
            self._items[key] = (value, size)
            self._newest[key[:-1]] = key
            self.used += size
            while self.used > self.max_bytes:
                gone, (_, evicted) = self._items.popitem(last=False)
                self.used -= evicted
                if self._newest.get(gone[:-1]) == gone:
                    del self._newest[gone[:-1]]

    def newest(self, page: tuple[str, ...]) -> Stored | None:
        """The newest stored copy of ``page`` (a key without its version), of any version."""
        with self._lock:
            key = self._newest.get(page)
            found = self._items.get(key) if key is not None else None
            return found[0] if found is not None else None


def _read_later(kept: Stored, offered: Stored) -> bool:
    """Whether the kept copy was read after the offered one (threads finish out of order)."""
    return (
        kept.stored_at is not None
        and offered.stored_at is not None
        and kept.stored_at > offered.stored_at
    )


class PageCacheMiddleware:
    """Serves stored pages before Flask; stores what ``public_page`` views marked."""

    def __init__(self, app: Flask, max_bytes: int = PAGE_CACHE_BYTES) -> None:
        self.app = app
        self.wsgi_app = app.wsgi_app
        self.cache = PageCache(max_bytes)
        self.enabled = current.settings(app).page_cache

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") != "GET" or not self.enabled:
            return self.wsgi_app(environ, start_response)
        if not environ.get("PATH_INFO", "").startswith(SERVED_BEFORE_FLASK):
            return self.wsgi_app(environ, start_response)
        variant, sets_cookie = variant_of(environ)
        newest = self.cache.newest(page_of(environ, variant))
        try:
            # The version of the database the page is read from (the replica's, for the
            # public): a page rendered from the replica is stored under its version.
            state = version_of(current.reader(environ, self.app), newest)
        except UNAVAILABLE:
            if newest is None:
                raise  # the guard answers 503, as for every other route
            return serve_stale(newest, variant, start_response)
        environ[STATE] = state
        read_at = datetime.now(UTC)
        key = page_key(environ, variant, state)
        stored = None if sets_cookie else self.cache.get(key)
        if stored is not None:
            headers = [*stored.headers, ("Date", http_date())]
            if stored.status.startswith("200") and not is_resource_modified(
                environ, etag=stored.etag, last_modified=stored.last_modified
            ):
                kept = [(k, v) for k, v in headers if k.lower() != "content-type"]
                start_response("304 Not Modified", kept)
                return [b""]
            start_response(stored.status, [*headers, ("Content-Length", str(len(stored.body)))])
            return [stored.body]
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        marked = environ.get(KEY)
        status = captured.get("status", "")
        if marked is None or int(status[:3] or 0) not in CACHEABLE:
            return body
        chunks = list(body)
        if hasattr(body, "close"):
            body.close()
        kept = tuple((k, v) for k, v in captured["headers"] if k.lower() not in PER_REQUEST)
        modified = dict((k.lower(), v) for k, v in kept).get("last-modified")
        self.cache.put(
            marked[0],
            Stored(
                status,
                kept,
                b"".join(chunks),
                marked[1],
                parse_date(modified),
                read_at,
                marked[2],
            ),
        )
        return chunks


def version_of(database: Database, newest: Stored | None) -> version.Version:
    """The version a page is keyed on: its body's when its last copy showed one body."""
    now = datetime.now(UTC)
    if newest is not None and newest.cab_id is not None:
        found = version.of_body(database, newest.cab_id, now)
        if found is not None:
            return found
    return version.peek(database, now)


def shows_body(cab_id: int) -> None:
    """Say that this page shows one body's record and nothing else of the register.

    Its next request is then keyed on the body's own version, so a change to
    another body keeps it (``version.of_body``). Only for pages whose every
    fact is the body's: its accreditations, their scope, events and
    certificates, and the log's proofs of them.
    """
    request.environ[BODY] = int(cab_id)


#: Said on a page answered from its last copy while the database is down.
STALE_NOTE = N_(
    "As of %(time)s (Bangkok time): the register cannot be reached just now, so this is "
    "the last copy this server showed. Check again later before you rely on it."
)
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
#: Headers a stale copy does not replay: it must not be revalidated or kept downstream.
NOT_REPLAYED = frozenset({"cache-control", "etag", "last-modified", "expires"})


def serve_stale(stored: Stored, variant: str, start_response: Callable[..., Any]) -> Any:
    """The last copy of a page, marked as such (HTML banner, JSON field, headers)."""
    at = stored.stored_at or datetime.now(UTC)
    lang = "th" if variant == "th" else "en"
    moment = at.astimezone(BANGKOK)
    when = f"{format_date_be(moment.date(), lang)} {moment:%H:%M}"
    note = Translations.load(str(TRANSLATIONS), [lang]).gettext(STALE_NOTE) % {"time": when}
    body = stored.body
    if variant == "json":
        try:
            found = json.loads(body)
            found["stale"] = {"as_of": at.isoformat(timespec="seconds"), "note": note}
            body = json.dumps(found, ensure_ascii=False).encode()
        except (ValueError, TypeError):
            pass
    else:
        banner = f'<p class="stale" role="alert">{html.escape(note)}</p>'.encode()
        opened = body.find(b"<main")
        end = body.find(b">", opened) if opened >= 0 else -1
        if end >= 0:
            body = body[: end + 1] + banner + body[end + 1 :]
    headers = [(k, v) for k, v in stored.headers if k.lower() not in NOT_REPLAYED]
    headers += [
        ("Cache-Control", "no-store"),
        ("Warning", '110 - "Response is Stale"'),
        ("X-Register-As-Of", http_date(at)),
        ("Date", http_date()),
        ("Content-Length", str(len(body))),
    ]
    start_response("200 OK", headers)
    return [body]


def public_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Make a view conditional (ETag, Last-Modified, 304) and cacheable per version."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        # The middleware's choice (the register's version, or the body's), else the register's.
        first = request.environ.get(STATE) or version.peek(current.reader(), datetime.now(UTC))
        variant, sets_cookie = variant_of(request.environ)
        key = page_key(request.environ, variant, first)
        etag = etag_of(key)
        kept = current.settings().page_cache
        # Pages the middleware does not serve (search, whose every request the rate
        # limiter must count) are kept here, behind the limiter: rendered, a search
        # page costs 5-10 ms, and 16 soak connections on it made every other page wait.
        in_flask = kept and not request.path.startswith(SERVED_BEFORE_FLASK)
        cache = current_app.extensions[EXTENSION].cache if in_flask else None
        read_at = datetime.now(UTC)
        stored = cache.get(key) if cache is not None and not sets_cookie else None
        if stored is not None:
            response = Response(stored.body, status=stored.status, headers=list(stored.headers))
        else:
            response = make_response(view(*args, **kwargs))
            if cache is not None and response.status_code in CACHEABLE and _plain(response):
                cache.put(key, _stored(response, etag, read_at))
        body = request.environ.get(BODY)
        state = _keyed_on(first, body)
        if state is not None and state is not first:
            key = page_key(request.environ, variant, state)
            etag = etag_of(key)
        if state is not None and kept and not in_flask and not response.is_streamed:
            request.environ[KEY] = (key, etag, body)
        response.set_etag(etag)
        response.last_modified = first.last_modified
        response.cache_control.public = True
        response.cache_control.max_age = MAX_AGE
        response.vary.update(("Accept", "Accept-Language", "Cookie"))
        if response.status_code == 200:
            return response.make_conditional(request)
        return response

    return wrapper


def _keyed_on(state: version.Version, body: int | None) -> version.Version | None:
    """The version a page that showed ``body`` is kept under; None if it must not be kept.

    Read for that body (the middleware knew it from the last copy): that
    version. Read for the whole register (a first visit): the body's version,
    read now, if the register has not moved since the page was read; then the
    first answer already carries the ETag that every later one will. Else the
    register's version, which is always safe to keep a page under.
    """
    if state.cab_id is not None:
        return state if state.cab_id == body else None  # None: read for another body
    if body is None:
        return state
    database, now = current.reader(), datetime.now(UTC)
    found = version.of_body(database, body, now)
    after = version.peek(database, now)
    # Nothing the page read may have moved while it was rendered: the register,
    # the log's signed size (its proof links) and the day (derived statuses).
    if found is None or (after.number, after.log_size, after.day) != (
        state.number,
        state.log_size,
        state.day,
    ):
        return state
    return found


def _plain(response: Response) -> bool:
    """A body held in memory: not a stream, not a file passed through."""
    return not response.is_streamed and not response.direct_passthrough


def _stored(response: Response, etag: str, read_at: datetime) -> Stored:
    """What a view answered, before the per-request headers (security, limits) are added."""
    headers = tuple((k, v) for k, v in response.headers.items() if k.lower() not in PER_REQUEST)
    return Stored(response.status, headers, response.get_data(), etag, None, read_at)


class Renders:
    """The last page rendered from each data, per page: a page is rendered again only when its
    data differ.

    Search pages are keyed on the whole register's version, as a change
    anywhere may change any result; but most changes leave a given query's
    results as they were, and the template costs three times the search (5 ms
    against 1.5 ms on 200 bodies). After each change both workers rendered
    every search page asked for, and the requests queued behind them waited.
    The data must be all the page shows beyond its address and language (a
    frozen dataclass compares field by field).
    """

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, ...], tuple[Any, str]] = OrderedDict()
        self._lock = Lock()

    def render(self, page: tuple[str, ...], data: Any, make: Callable[[], str]) -> str:
        with self._lock:
            found = self._items.get(page)
            if found is not None and found[0] == data:
                self._items.move_to_end(page)
                return found[1]
        made = make()
        with self._lock:
            self._items[page] = (data, made)
            self._items.move_to_end(page)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return made


def this_page() -> tuple[str, ...]:
    """This request's page (``page_of``)."""
    return page_of(request.environ, variant_of(request.environ)[0])


#: Where ``init_app`` leaves the middleware, so that tests and measurements can read its cache.
EXTENSION = "accredit.page_cache"


def init_app(app: Flask) -> None:
    middleware = PageCacheMiddleware(app)
    app.extensions[EXTENSION] = middleware
    app.wsgi_app = middleware  # type: ignore[method-assign]
