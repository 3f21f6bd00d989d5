"""The back office's doors and books: login, logout, accounts and roles, the audit log."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from ..accounts.services import (
    LoginRefused,
    add_staff,
    authenticate,
    disable_staff,
    end_session,
    grant_role,
    open_session,
    revoke_role,
)
from ..changes import AuditEntry
from ..dates import BANGKOK
from ..refusals import Refused
from ..staff.models import StaffRole, StaffUser
from ..web import current
from ..web.i18n import explain
from ..web.parameters import whole_number
from . import forms
from .auth import ACCOUNT_READERS, AUDIT_READERS, SignedIn, staff, staff_required

bp = Blueprint("office", __name__, url_prefix="/staff")
AUDIT_PAGE = 100
MAX_AUDIT_PAGE = 100_000


def now() -> datetime:
    return datetime.now(UTC)


def _safe_next(target: str | None) -> str:
    """Only back to a page of this site's back office: never an open redirect."""
    if (
        target
        and target.startswith("/staff")
        and not urlsplit(target).netloc
        and "\\" not in target
    ):
        return target
    return url_for("cases.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = forms.LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("cases.dashboard"))
        return render_template("office/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("office/login.html", form=form), 400
    address = request.remote_addr or ""
    refused: LoginRefused | None = None
    with current.database().transaction() as db:
        try:
            found = authenticate(
                db,
                form.email.data or "",
                form.password.data or "",
                form.code.data or "",
                address=address,
                now=now(),
            )
        except LoginRefused as exc:
            refused = exc  # the failed attempt is committed: the lockout counts it
        else:
            token = open_session(db, found, address=address, now=now())
            db.expunge(found)
    if refused is not None:
        flash(explain(refused), "error")
        return render_template("office/login.html", form=form), 401
    session.clear()  # a new session, never one a visitor brought along
    session.permanent = True
    login_user(SignedIn(found, token))
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
@staff_required()
def logout() -> Any:
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    with current.database().transaction() as db:
        end_session(db, current_user.token, now())
    logout_user()
    session.clear()
    flash(_("You have logged out."), "ok")
    return redirect(url_for("office.login"))


# --- the audit log ------------------------------------------------------------------


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def audit_query(args: Any) -> tuple[Select[Any], dict[str, str]]:
    filters = {
        k: (args.get(k) or "").strip()[:100] for k in ("actor", "action", "target", "from", "to")
    }
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if filters["actor"]:
        ids = select(StaffUser.id).where(StaffUser.email.like(f"%{filters['actor'].lower()}%"))
        query = query.where(AuditEntry.actor_id.in_(ids) | AuditEntry.approver_id.in_(ids))
    if filters["action"]:
        query = query.where(AuditEntry.action.like(f"{filters['action']}%"))
    if filters["target"]:
        query = query.where(AuditEntry.target_id == filters["target"])
    start, end = _day(filters["from"]), _day(filters["to"])
    if start:
        query = query.where(AuditEntry.at >= datetime.combine(start, time(0), BANGKOK))
    if end:
        query = query.where(
            AuditEntry.at < datetime.combine(end + timedelta(days=1), time(0), BANGKOK)
        )
    return query, filters


@bp.get("/audit")
@staff_required(*AUDIT_READERS)
def audit() -> Any:
    query, filters = audit_query(request.args)
    number = whole_number(request.args, "page", default=1, low=1, high=MAX_AUDIT_PAGE)
    db = current.session()
    entries = db.scalars(query.limit(AUDIT_PAGE).offset((number - 1) * AUDIT_PAGE)).all()
    ids = {e.actor_id for e in entries} | {e.approver_id for e in entries}
    people = {s.id: s for s in db.scalars(select(StaffUser).where(StaffUser.id.in_(ids - {None})))}
    return render_template(
        "office/audit.html",
        entries=entries,
        people=people,
        filters=filters,
        page=number,
        per_page=AUDIT_PAGE,
    )


@bp.get("/audit.csv")
@staff_required(*AUDIT_READERS)
def audit_csv() -> Any:
    query, _filters = audit_query(request.args)
    db = current.session()
    people = dict(db.execute(select(StaffUser.id, StaffUser.email)).all())

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "id",
                "at",
                "actor_kind",
                "actor",
                "approver",
                "action",
                "target_type",
                "target_id",
                "detail",
            ]
        )
        for entry in db.scalars(query.execution_options(yield_per=1000)):
            writer.writerow(
                [
                    entry.id,
                    entry.at.isoformat(timespec="seconds"),
                    entry.actor_kind.value,
                    people.get(entry.actor_id, ""),
                    people.get(entry.approver_id, ""),
                    entry.action,
                    entry.target_type,
                    entry.target_id,
                    entry.detail,
                ]
            )
            yield out.getvalue()
            out.seek(0)
            out.truncate()

    response = Response(lines(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.headers["Cache-Control"] = "no-store, private"
    return response


# --- accounts and roles -------------------------------------------------------------


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


@bp.route("/accounts", methods=["GET", "POST"])
@staff_required(*ACCOUNT_READERS)
def accounts() -> Any:
    form = forms.AccountForm()
    enrolled = None
    status = 200
    if request.method == "POST":
        if StaffRole.REGISTRAR not in staff().roles:
            abort(403)
        if form.validate_on_submit():
            try:
                with current.database().transaction() as db:
                    me = db.get(StaffUser, staff().id)
                    made = add_staff(
                        db,
                        form.email.data or "",
                        form.name.data or "",
                        {StaffRole(r) for r in form.roles.data or ()},
                        form.password.data or "",
                        issuer=current.settings().agency_short,
                        by=me,
                        now=now(),
                    )
                    enrolled = {
                        "email": made.staff.email,
                        "uri": made.provisioning_uri,
                        "qr": _qr_svg(made.provisioning_uri),
                    }
            except Refused as exc:
                flash(explain(exc), "error")
                status = 400
            else:
                form = forms.AccountForm(formdata=None)
        else:
            status = 400
    people = (
        current.session()
        .scalars(select(StaffUser).options(selectinload(StaffUser.grants)).order_by(StaffUser.name))
        .all()
    )
    response = render_template(
        "office/accounts.html",
        people=people,
        form=form,
        role_form=forms.RoleForm(formdata=None),
        confirm=forms.ConfirmForm(),
        enrolled=enrolled,
        labels=forms.ROLE_LABELS,
    )
    return Response(response, status=status, headers={"Cache-Control": "no-store, private"})


def _account_step(staff_id: int, step: Any) -> Any:
    target = url_for("office.accounts")
    try:
        with current.database().transaction() as db:
            me = db.get(StaffUser, staff().id)
            person = db.get(StaffUser, staff_id) if staff_id < 2**31 else None
            if person is None or me is None:
                abort(404)
            step(db, person, me)
    except Refused as exc:
        flash(explain(exc), "error")
    else:
        flash(_("Saved."), "ok")
    return redirect(target)


@bp.post("/accounts/<int:staff_id>/roles")
@staff_required(StaffRole.REGISTRAR)
def account_role(staff_id: int) -> Any:
    form = forms.RoleForm()
    if not form.validate_on_submit():
        abort(400)
    role = StaffRole(form.role.data)
    change = grant_role if form.grant.data else revoke_role
    return _account_step(
        staff_id, lambda db, person, me: change(db, person, role, by=me, now=now())
    )


@bp.post("/accounts/<int:staff_id>/disable")
@staff_required(StaffRole.REGISTRAR)
def account_disable(staff_id: int) -> Any:
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    return _account_step(
        staff_id, lambda db, person, me: disable_staff(db, person, by=me, now=now())
    )
