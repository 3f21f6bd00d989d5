"""Public pages: no login, every page has a JSON twin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from .db import get_session
from .models import Cab
from .standings import standings

bp = Blueprint("public", __name__)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.args.get("format") == "json" or best == "application/json"


def cab_listing(page: int, per_page: int) -> dict[str, Any]:
    """One page of CABs with each accreditation's derived status."""
    session = get_session()
    total = session.scalar(select(func.count()).select_from(Cab)) or 0
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    cabs = session.scalars(
        select(Cab)
        .order_by(Cab.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(selectinload(Cab.accreditations))
    ).all()
    now = datetime.now(UTC)
    found = standings(session, now, [a.id for cab in cabs for a in cab.accreditations])
    rows = [
        {
            "name_en": cab.name_en,
            "name_th": cab.name_th,
            "national_id": cab.national_id,
            "accreditations": [
                {
                    "number": acc.number,
                    "standard": acc.standard,
                    "programme": acc.programme.value,
                    "valid_until": acc.valid_until.isoformat(),
                    "status": found[acc.id].status.value,
                }
                for acc in cab.accreditations
            ],
        }
        for cab in cabs
    ]
    return {
        "cabs": rows,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": pages,
        "generated_at": now.isoformat(timespec="seconds"),
    }


def page_number() -> int:
    raw = request.args.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() and len(raw) < 7 else 1


@bp.get("/")
def index() -> Any:
    data = cab_listing(page_number(), current_app.config["PAGE_SIZE"])
    if wants_json():
        return data
    return render_template("index.html", **data)


@bp.get("/healthz")
def healthz() -> Any:
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.get("/c/<path:number>.pdf")
def certificate_pdf(number: str) -> Any:
    """The certificate as the registry serves it: the latest LTA-refreshed copy."""
    from flask import Response, abort

    from .models import Blob, Certificate

    session = get_session()
    cert = session.scalars(select(Certificate).where(Certificate.number == number)).one_or_none()
    if cert is None:
        abort(404)
    blob = session.get(Blob, cert.current_sha256)
    if blob is None:
        abort(404)
    response = Response(blob.data, mimetype="application/pdf")
    filename = number.replace("/", "-") + ".pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(blob.sha256)
    response.cache_control.public = True
    response.cache_control.max_age = 60
    return response.make_conditional(request)
