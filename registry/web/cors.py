"""Cross-origin reads of the open data: a browser app on another site may GET it.

Only public GET endpoints answer cross-origin: the API's reads, the exports
and feeds, the transparency log, the status list and the PKI files. They hold
nothing private and take no cookies, so ``*`` is safe. Uploads, staff pages
and the HTML pages stay same-origin.
"""

from __future__ import annotations

from flask import Flask, Response, request

#: Paths whose GET routes are open data.
PUBLIC_PREFIXES = ("/api/v1/", "/exports/", "/feeds/", "/log/", "/status/", "/pki/")
#: Request headers a cross-origin reader may send (conditional GETs included).
ALLOWED_HEADERS = "Accept, Accept-Language, If-None-Match, If-Modified-Since"
#: Response headers a cross-origin reader may see besides the simple ones.
EXPOSED_HEADERS = (
    "ETag, Link, Retry-After, Warning, X-Register-Version, "
    "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
)


def is_public_read() -> bool:
    """A GET (or its preflight) of an open-data address, or a GET of one that does not exist.

    A 404 under ``/api/v1/`` carries the header too, so that a browser app can
    read why; a route that takes no GET (the upload) never does.
    """
    if not request.path.startswith(PUBLIC_PREFIXES):
        return False
    # A preflight names the method it asks for: only reads are open. (``/api/v1/verify``
    # takes a GET, what the verifier offers, and a POST, the upload, which stays same-origin.)
    asked = request.headers.get("Access-Control-Request-Method")
    if request.method == "OPTIONS" and asked not in ("GET", "HEAD"):
        return False
    rule = request.url_rule
    if rule is None:
        return request.method in ("GET", "HEAD")
    return "GET" in (rule.methods or ()) and request.method in ("GET", "HEAD", "OPTIONS")


def cors_headers(response: Response) -> Response:
    if not is_public_read():
        return response
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        headers["Access-Control-Max-Age"] = "86400"
    else:
        headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def init_app(app: Flask) -> None:
    app.after_request(cors_headers)
