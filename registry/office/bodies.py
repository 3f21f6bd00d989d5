"""The back office's bodies: find, create and edit a CAB, its contacts and its sites."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..acts.bodies import create_cab, save_site, update_cab
from ..cases.models import Case
from ..refusals import Refused
from ..register.models import Cab, Site
from ..register.standings import standings
from ..staff.models import StaffRole, StaffUser
from ..web import current
from ..web.i18n import explain
from . import forms
from .auth import staff, staff_required
from .cases import ANYONE

bp = Blueprint("bodies", __name__, url_prefix="/staff/cabs")
PAGE = 50


def now() -> datetime:
    return datetime.now(UTC)


def get_cab_or_404(cab_id: int) -> Cab:
    found = (
        current.session()
        .scalars(
            select(Cab)
            .where(Cab.id == cab_id)
            .options(selectinload(Cab.sites), selectinload(Cab.accreditations))
        )
        .one_or_none()
        if cab_id < 2**31
        else None
    )
    if found is None:
        abort(404)
    return found


@bp.get("/")
@staff_required(*ANYONE)
def cab_list() -> Any:
    text = request.args.get("q", "").strip()[:80]
    query = select(Cab).order_by(Cab.name_en).limit(PAGE)
    if text:
        query = query.where(
            or_(
                func.lower(Cab.name_en).like(f"%{text.casefold()}%"),
                Cab.name_th.like(f"%{text}%"),
                Cab.national_id == text,
            )
        )
    return render_template("office/cabs.html", cabs=current.session().scalars(query).all(), q=text)


@bp.route("/new", methods=["GET", "POST"])
@staff_required(StaffRole.OFFICER)
def cab_new() -> Any:
    form = forms.CabForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 200 if request.method == "GET" else 400
        return render_template("office/cab_form.html", form=form, cab=None), status
    try:
        with current.database().transaction() as session:
            me = session.get(StaffUser, staff().id)
            assert me is not None
            cab = create_cab(session, form.data, by=me, now=now())
            cab_id = cab.id
    except Refused as exc:
        flash(explain(exc), "error")
        return render_template("office/cab_form.html", form=form, cab=None), 400
    flash(_("Body registered."), "ok")
    return redirect(url_for("bodies.cab_page", cab_id=cab_id))


@bp.route("/<int:cab_id>", methods=["GET", "POST"])
@staff_required(*ANYONE)
def cab_page(cab_id: int) -> Any:
    cab = get_cab_or_404(cab_id)
    form = forms.CabForm(obj=cab)
    if request.method == "POST":
        if StaffRole.OFFICER not in staff().roles:
            abort(403)
        if form.validate_on_submit():
            try:
                with current.database().transaction() as session:
                    me = session.get(StaffUser, staff().id)
                    target = session.get(Cab, cab.id)
                    assert me is not None and target is not None
                    update_cab(session, target, form.data, by=me, now=now())
            except Refused as exc:
                flash(explain(exc), "error")
            else:
                flash(_("Saved."), "ok")
                return redirect(url_for("bodies.cab_page", cab_id=cab.id))
    session = current.session()
    found = (
        standings(session, now(), [a.id for a in cab.accreditations]) if cab.accreditations else {}
    )
    cases = session.scalars(
        select(Case).where(Case.cab_id == cab.id).order_by(Case.id.desc()).limit(PAGE)
    ).all()
    return render_template(
        "office/cab.html",
        cab=cab,
        form=form,
        site_form=forms.SiteForm(formdata=None),
        standings=found,
        cases=cases,
    ), (400 if form.errors else 200)


@bp.post("/<int:cab_id>/sites")
@bp.post("/<int:cab_id>/sites/<int:site_id>")
@staff_required(StaffRole.OFFICER)
def site_save(cab_id: int, site_id: int | None = None) -> Any:
    form = forms.SiteForm()
    target = url_for("bodies.cab_page", cab_id=cab_id)
    if not form.validate_on_submit():
        for field, messages in form.errors.items():
            flash(f"{getattr(form, field).label.text}: {' '.join(map(str, messages))}", "error")
        return redirect(target)
    try:
        with current.database().transaction() as session:
            me = session.get(StaffUser, staff().id)
            cab = session.get(Cab, cab_id)
            site = session.get(Site, site_id) if site_id is not None else None
            if cab is None or (site_id is not None and site is None):
                abort(404)
            assert me is not None
            save_site(session, cab, site, form.data, by=me, now=now())
    except Refused as exc:
        flash(explain(exc), "error")
    else:
        flash(_("Site saved."), "ok")
    return redirect(target)
