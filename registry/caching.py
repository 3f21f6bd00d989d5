"""HTTP caching of public pages, keyed on the register's version.

A public page depends only on its URL, its variant (language or JSON) and the
register: ``freshness.current`` gives a version that moves with every
decision, issuance and Bangkok day. So a page's ETag is a digest of those, a
revalidation costs one small query, and a rendered page can be reused by this
process until the version moves. Nothing stale is ever served: the version is
read on every request.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from threading import Lock
from typing import Any

from flask import Response, current_app, make_response, request

from . import freshness
from .db import get_session
from .i18n import current_lang

MAX_AGE = 60
#: Responses worth keeping; anything else is rendered every time.
CACHEABLE = frozenset({200, 400, 404})


@dataclass(frozen=True)
class Stored:
    body: bytes
    status: int
    mimetype: str
    headers: tuple[tuple[str, str], ...]


class PageCache:
    """A byte-bounded LRU of rendered pages, one per process."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._items: OrderedDict[tuple[str, ...], Stored] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple[str, ...]) -> Stored | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, ...], value: Stored) -> None:
        size = len(value.body)
        if size > self.max_bytes // 8:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.used -= len(old.body)
            self._items[key] = value
            self.used += size
            while self.used > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self.used -= len(evicted.body)


_cache = PageCache(max_bytes=64 * 1024 * 1024)
#: Headers a stored page keeps (the rest are set afresh on every response).
KEPT_HEADERS = ("Content-Disposition", "Link")


def variant(json: bool) -> str:
    return "json" if json else current_lang()


def public_page(wants_json: Callable[[], bool]) -> Callable[[Callable[..., Any]], Any]:
    """Make a view conditional (ETag, Last-Modified, 304) and cached per version."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            version = freshness.current(get_session(), datetime.now(UTC))
            key = (request.full_path, variant(wants_json()), version.tag)
            etag = hashlib.sha256("\0".join(key).encode()).hexdigest()[:32]
            use_cache = current_app.config.get("PAGE_CACHE", True)
            stored = _cache.get(key) if use_cache else None
            if stored is None:
                response = make_response(view(*args, **kwargs))
                if use_cache and response.status_code in CACHEABLE and not response.is_streamed:
                    stored = Stored(
                        body=response.get_data(),
                        status=response.status_code,
                        mimetype=response.mimetype or "text/html",
                        headers=tuple(
                            (k, v) for k, v in response.headers.items() if k in KEPT_HEADERS
                        ),
                    )
                    _cache.put(key, stored)
            else:
                response = Response(stored.body, status=stored.status, mimetype=stored.mimetype)
                for name, value in stored.headers:
                    response.headers[name] = value
            response.set_etag(etag)
            response.last_modified = version.last_modified
            response.cache_control.public = True
            response.cache_control.max_age = MAX_AGE
            response.vary.update(("Accept", "Accept-Language", "Cookie"))
            if response.status_code == 200:
                return response.make_conditional(request)
            return response

        return wrapper

    return decorate
