"""The outermost layer: every response leaves with the security headers, every failure
with an answer in the right shape.

Flask's error handlers see only what happens inside a view. A failure before
Flask (the page cache reads the register's version first), or inside an error
handler, used to reach the client as the server's bare 500 page: HTML even for
``Accept: application/json``, and with none of the security headers. ``Guard``
wraps the whole WSGI stack: it refuses overlong addresses (414) before any
work, completes the security headers on whatever passes through, and turns an
exception that escaped everything else into the one problem shape, logged in
full here and never shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.exceptions import RequestURITooLarge

from . import current
from .problems import RETRY_AFTER, UNAVAILABLE, server_error, unavailable
from .security import completed

log = logging.getLogger(__name__)

#: Longest path plus query string answered (beyond the 10,000-character search text,
#: which is refused with its own reason); gunicorn's request-line limit is 4094.
MAX_URL = 16384
#: The last answer, when even the problem page cannot be made.
BARE = b"The service cannot answer just now.\n"

StartResponse = Callable[..., Any]


class Guard:
    """WSGI middleware around everything the app serves (see the module docstring)."""

    def __init__(self, app: Flask, inner: Callable[[dict[str, Any], StartResponse], Any]) -> None:
        self.app = app
        self.inner = inner
        self.https = current.settings(app).https

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", ""))
        if length > MAX_URL:
            return self._problem(environ, start_response, 414)
        started = False

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal started
            started = True
            return start_response(status, completed(headers, self.https), exc_info)

        try:
            return self.inner(environ, start)
        except UNAVAILABLE as exc:
            log.warning("database unavailable: %s", str(exc).strip().splitlines()[0][:300])
            if started:
                raise
            return self._problem(environ, start_response, 503)
        except Exception:
            log.exception("unhandled error serving %s", environ.get("PATH_INFO", ""))
            if started:  # the status line is gone: the server must abort the connection
                raise
            return self._problem(environ, start_response, 500)

    def _problem(
        self, environ: dict[str, Any], start_response: StartResponse, status: int
    ) -> Iterable[bytes]:
        """The app's own problem page (HTML or JSON, in the reader's language)."""
        try:
            with self.app.request_context(environ):
                if status == 414:
                    answer = self.app.handle_user_exception(RequestURITooLarge())
                elif status == 503:
                    answer = unavailable()
                else:
                    answer = server_error()
                made = self.app.make_response(answer)
                line, headers, body = made.status, made.headers.to_wsgi_list(), made.get_data()
        except Exception:
            log.exception("the problem page for %s could not be made", status)
            line, headers, body = STATUS_LINES[status], [("Content-Type", "text/plain")], BARE
            if status == 503:
                headers.append(("Retry-After", str(RETRY_AFTER)))
        kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(line, [*completed(kept, self.https), ("Content-Length", str(len(body)))])
        return [body]


STATUS_LINES = {
    414: "414 Request-URI Too Large",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}


def init_app(app: Flask) -> None:
    """Last in the factory: outside the page cache and everything else."""
    app.wsgi_app = Guard(app, app.wsgi_app)  # type: ignore[method-assign]
