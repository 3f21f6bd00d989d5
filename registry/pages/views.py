"""Public pages: no login, every page has a JSON twin."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from verifier.errors import QrError
from verifier.qr import decode_qr_payload

from ..certificates.answers import answer_for, find_certificate
from ..certificates.models import Blob, Certificate
from ..certificates.pdf.document import FONTS
from ..certificates.status_lists import signed_status_list
from ..pki.material import get_pki
from ..register.status import PUBLIC_STATUSES
from ..search.query import MAX_PAGE, SearchQuery, SearchRefused, search
from ..search.text import marks
from ..web import current
from ..web.caching import Renders, public_page, shows_body, this_page
from ..web.i18n import agency_name, current_lang
from ..web.negotiation import respond, wants_json
from ..web.parameters import whole_number
from ..web.problems import RETRY_AFTER, problem, refused
from .identifiers import Kind, Landing, landing_for
from .records import (
    MAX_ID,
    accreditation_record,
    cab_record,
    recognition_json,
    scope_filters,
)

bp = Blueprint("public", __name__)


@bp.app_template_global()
def marked(value: str, terms: Iterable[str]) -> Markup:
    """``value`` escaped, with the query's terms in ``<mark>``: why a hit matched."""
    out, last = [], 0
    for start, end in marks(value, terms):
        out += [escape(value[last:start]), Markup("<mark>"), escape(value[start:end])]
        out.append(Markup("</mark>"))
        last = end
    out.append(escape(value[last:]))
    return Markup("").join(out)


def landing_url(landing: Landing) -> str:
    """The page of the record an identifier names."""
    if landing.kind is Kind.CAB:
        return url_for("public.cab", cab_id=int(landing.key))
    if landing.kind is Kind.CERTIFICATE:
        return url_for("public.certificate", number=landing.key)
    return url_for("public.accreditation", number=landing.key)


@bp.get("/")
@bp.get("/search")
@public_page
def index() -> Any:
    """Search is the home page: by default, every body accredited now."""
    try:
        page = whole_number(request.args, "page", default=1, low=1, high=MAX_PAGE)
        query = SearchQuery.from_args(request.args, page)
    except SearchRefused as exc:
        return refused(exc)
    now = datetime.now(UTC)
    if query.text and not wants_json():
        landing = landing_for(current.session(), query.text, now)
        if landing is not None:
            return redirect(landing_url(landing))
    result = search(current.session(), query, now, thai_order=current_lang() == "th")
    if wants_json():
        return result.as_json()
    return current_app.extensions.setdefault(SEARCH_PAGES, Renders()).render(
        this_page(),
        result,
        lambda: render_template(
            "search.html", result=result, query=query, statuses=PUBLIC_STATUSES
        ),
    )


#: The app's search pages in this worker, rendered again only when their results change.
SEARCH_PAGES = "accredit.search_pages"


@bp.get("/cab/<int:cab_id>")
@public_page
def cab(cab_id: int) -> Any:
    recognition = current.settings().recognition
    session, now = current.session(), datetime.now(UTC)
    data = cab_record(session, cab_id, now, recognition) if cab_id <= MAX_ID else None
    if data is None:
        return problem(
            404,
            "cab_not_found",
            _("No such body in the register"),
            _("Search the register by name, number or test."),
        )
    shows_body(cab_id)
    return respond(data, "cab.html")


@bp.get("/a/<number>")
@public_page
def accreditation(number: str) -> Any:
    try:
        filters = scope_filters(request.args)
    except SearchRefused as exc:
        return refused(exc)
    session, now = current.session(), datetime.now(UTC)
    recognition = current.settings().recognition
    data = accreditation_record(session, number[:40], filters, now, recognition)
    if data is None:
        # Typed in another case (testing-0002): the same record, as the register spells it.
        landing = landing_for(session, number[:40], now)
        if landing is not None and landing.kind is Kind.ACCREDITATION:
            if not wants_json():
                return redirect(url_for("public.accreditation", number=landing.key, **request.args))
            data = accreditation_record(session, landing.key, filters, now, recognition)
    if data is None:
        return problem(
            404,
            "accreditation_not_found",
            _("No accreditation numbered %(number)s", number=number[:40]),
            _("Check the number, for example Testing-0123, or search the register."),
        )
    shows_body(data["cab"]["id"])
    return respond(data, "accreditation.html")


#: The web pages' Thai typeface: the certificate's own Sarabun, served from here.
WEB_FONTS = frozenset({"Sarabun-Regular.ttf", "Sarabun-Bold.ttf"})


@bp.get("/fonts/<name>")
def font(name: str) -> Any:
    if name not in WEB_FONTS:
        abort(404)
    response = send_from_directory(FONTS, name, mimetype="font/ttf", max_age=30 * 86400)
    response.cache_control.public = True
    return response


@bp.get("/healthz")
def healthz() -> Any:
    try:
        current.session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        retry = {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
        return {"status": "error", "database": "unreachable"}, 503, retry
    return {"status": "ok", "database": "ok"}


MAX_TOKEN = 2048


def show_answer(number: str) -> Any:
    session = current.session()
    cert = find_certificate(session, number)
    if cert is None:
        return None
    answer = answer_for(session, cert, datetime.now(UTC))
    shows_body(cert.accreditation.cab_id)
    # The phone that scanned the QR code abroad needs to know the report is recognised there.
    recognition = recognition_json(
        current.settings().recognition, [answer.accreditation.programme.value]
    )
    if wants_json():
        return {**answer.as_json(), "recognition": recognition}
    return render_template("answer.html", answer=answer, recognition=recognition)


@bp.get("/V/<path:token>")
@bp.get("/v/<path:token>")
@public_page
def qr_landing(token: str) -> Any:
    """Where a phone lands after scanning a certificate's QR code."""
    if len(token) > MAX_TOKEN:
        claims = None
        code = "qr_too_long"
    else:
        try:
            claims = decode_qr_payload(token, get_pki().qr_jwks())
            code = None
        except QrError as exc:
            claims, code = None, exc.code
    if claims is None:
        return problem(
            400,
            code or "qr_invalid",
            _("This QR code was not issued by %(agency)s", agency=agency_name()),
            _(
                "Do not rely on this document. Contact %(agency)s to check it.",
                agency=agency_name(),
            ),
        )
    found = show_answer(claims.certificate_number)
    if found is None:
        return problem(
            404,
            "certificate_not_found",
            _("Certificate %(number)s is not in the register", number=claims.certificate_number),
            _(
                "The QR code is genuine, but the register has no record of this certificate. "
                "Contact %(agency)s.",
                agency=agency_name(),
            ),
        )
    return found


@bp.get("/c")
def lookup() -> Any:
    """The certificate box: any identifier lands, not only a certificate number."""
    number = request.args.get("number", "").strip()[:80]
    if not number:
        return redirect(url_for("public.index"))
    landing = landing_for(current.session(), number, datetime.now(UTC))
    if landing is not None:
        return redirect(landing_url(landing))
    return redirect(url_for("public.certificate", number=number))


@bp.get("/c/<path:number>")
@public_page
def certificate(number: str) -> Any:
    """The same answer as the QR page, for people who type the number."""
    found = show_answer(number[:80])
    if found is None:
        landing = landing_for(current.session(), number[:80], datetime.now(UTC))
        if landing is not None and not wants_json():
            return redirect(landing_url(landing))
        if landing is not None and landing.kind is Kind.CERTIFICATE:
            found = show_answer(landing.key)
    if found is None:
        return problem(
            404,
            "certificate_not_found",
            _("No certificate numbered %(number)s", number=number[:80]),
            _("Check the number as printed on the certificate, for example Testing-0123/R2."),
        )
    return found


@bp.get("/c/<path:number>.pdf")
def certificate_pdf(number: str) -> Any:
    """The certificate as the registry serves it: the latest LTA-refreshed copy."""
    session = current.session()
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


@bp.get("/status/list")
def status_list() -> Any:
    """The signed status list (COSE_Sign1), fetched whole by offline verifiers.

    Read from the primary, never a replica: the list is signed "as of" now, and
    offline verifiers keep it, so it must not carry a lagging replica's statuses.
    """
    with current.database().session() as session:
        data, as_of = signed_status_list(
            session, get_pki(), current.settings().agency_short, datetime.now(UTC)
        )
    response = Response(data, mimetype="application/cose")
    response.headers["Content-Disposition"] = 'attachment; filename="status-list.cose"'
    response.last_modified = as_of
    response.cache_control.public = True
    response.cache_control.max_age = 60
    return response
