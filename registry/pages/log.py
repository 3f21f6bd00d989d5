"""``/log``: the transparency log as C2SP tlog-tiles, and RFC 9162 proofs on request.

Everything is served as of the latest *signed* checkpoint: a leaf that is not
yet under a signature is not shown. Full tiles and full entry bundles never
change (cached for a year, immutable); the checkpoint changes with every
signed change (cached for seconds).
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from flask_babel import gettext as _

from verifier import merkle
from verifier.merkle import TILE_WIDTH, ProofError

from ..log import checkpoints, store
from ..web import current
from ..web.caching import PageCache, Stored
from ..web.i18n import explain
from ..web.parameters import BadParameter, whole_number
from ..web.problems import problem

bp = Blueprint("log", __name__, url_prefix="/log")
IMMUTABLE = "public, max-age=31536000, immutable"
MAX_LEVEL = 63
#: A tree size or leaf index: 18 digits, far beyond any log.
MAX_SIZE = 10**18 - 1
#: Full tiles and bundles never change, so each process keeps the ones it served.
FULL_TILES = "accredit.full_tiles"


def _full_tiles() -> PageCache:
    found = current_app.extensions.get(FULL_TILES)
    if found is None:
        found = current_app.extensions[FULL_TILES] = PageCache(16 * 1024 * 1024)
    return found


def _signed_size() -> int:
    found = checkpoints.latest(current.session())
    return found.size if found else 0


def _number(name: str) -> int:
    value = whole_number(request.args, name, default=None, low=0, high=MAX_SIZE)
    if value is None:
        raise ProofError(f"{name} must be a whole number")
    return value


def _bad(exc: Exception) -> Any:
    detail = explain(exc) if isinstance(exc, BadParameter) else str(exc)
    return problem(400, "bad_proof_request", _("This proof cannot be given"), detail)


@bp.get("/checkpoint")
def checkpoint() -> Response:
    session = current.session()
    found = checkpoints.latest(session)
    if found is None:
        abort(404)
    response = Response(
        checkpoints.with_cosignatures(session, found),
        mimetype="text/plain",
        content_type="text/plain; charset=utf-8",
    )
    response.cache_control.public = True
    response.cache_control.max_age = 5
    return response


def _tile_request(path: str) -> tuple[int, int | None]:
    """``x001/234[.p/W]`` -> (index, width or None for a full tile); refuses anything else."""
    index_path, partial, width = path.partition(".p/")
    index = merkle.parse_tile_path(index_path)
    if not partial:
        return index, None
    if (
        not width.isascii()
        or not width.isdigit()
        or width.startswith("0")
        or not 0 < int(width) < TILE_WIDTH
    ):
        raise ProofError("a partial tile's width is 1 to 255")
    return index, int(width)


def _binary(data: bytes, full: bool) -> Response:
    response = Response(data, mimetype="application/octet-stream")
    response.headers["Cache-Control"] = IMMUTABLE if full else "public, max-age=60"
    return response


def _serve(level: str, path: str, read: Any) -> Response:
    """A tile or bundle, if the signed tree holds it; a full one from memory when seen."""
    try:
        index, width = _tile_request(path)
    except ProofError:
        abort(404)
    key = (level, str(index))
    if width is None and (kept := _full_tiles().get(key)) is not None:
        return _binary(kept.body, True)
    height = 0 if level == "entries" else int(level)
    wanted = width or TILE_WIDTH
    if merkle.tile_width(height, index, _signed_size()) < wanted:
        abort(404)
    data = read(current.session(), height, index, wanted)
    if width is None:
        _full_tiles().put(key, Stored("200 OK", (), data, "", None))
    return _binary(data, width is None)


@bp.get("/tile/<int:level>/<path:path>")
def tile(level: int, path: str) -> Response:
    if level > MAX_LEVEL:
        abort(404)
    return _serve(str(level), path, store.tile)


@bp.get("/tile/entries/<path:path>")
def entries(path: str) -> Response:
    return _serve(
        "entries", path, lambda session, _, index, width: store.bundle(session, index, width)
    )


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


@bp.get("/proof/inclusion")
def inclusion() -> Any:
    try:
        index = _number("index")
        size = _number("size")
        signed = _signed_size()
        if size > signed:
            raise ProofError(f"the log's latest checkpoint has size {signed}")
        proof = store.inclusion(current.session(), index, size)
    except (ProofError, BadParameter) as exc:
        return _bad(exc)
    return {"index": index, "size": size, "proof": _b64(proof)}


@bp.get("/proof/consistency")
def consistency() -> Any:
    try:
        old = _number("from")
        new = _number("to")
        signed = _signed_size()
        if new > signed:
            raise ProofError(f"the log's latest checkpoint has size {signed}")
        proof = store.consistency(current.session(), old, new)
    except (ProofError, BadParameter) as exc:
        return _bad(exc)
    return {"from": old, "to": new, "proof": _b64(proof)}
