"""The back office's cases: list, propose, assess, decide. Thin views over ``cases.workflow``."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..cases import scope_import, workflow
from ..cases.models import (
    OPEN_STATES,
    AssessmentMode,
    Case,
    CaseAssessor,
    CaseKind,
    CaseState,
    Finding,
    FindingKind,
)
from ..cases.workflow import CaseRefused, Proposal
from ..certificates.models import Blob
from ..dates import local_date
from ..pki.material import get_document_signer
from ..refusals import N_, Refused
from ..register.models import Accreditation, Cab, ScopeItem, Site
from ..register.standings import standings
from ..register.status import ItemState
from ..staff.models import RoleGrant, StaffRole, StaffUser
from ..web import current
from ..web.i18n import explain
from . import forms
from .auth import staff, staff_required

bp = Blueprint("cases", __name__, url_prefix="/staff")
PAGE = 50
ANYONE = (
    StaffRole.OFFICER,
    StaffRole.ASSESSOR,
    StaffRole.DECISION_MAKER,
    StaffRole.REGISTRAR,
    StaffRole.AUDITOR,
)
#: The acts proposed with the plain status form (the others import scope or a cycle).
STATUS_ACTS = (
    CaseKind.SUSPENSION,
    CaseKind.REINSTATEMENT,
    CaseKind.WITHDRAWAL,
    CaseKind.VOLUNTARY_WITHDRAWAL,
)


def now() -> datetime:
    return datetime.now(UTC)


def refused(exc: Refused, target: str) -> Any:
    flash(explain(exc), "error")
    return redirect(target)


def get_case_or_404(number: str) -> Case:
    found = workflow.find_case(current.session(), number[:30])
    if found is None:
        abort(404)
    return found


def get_accreditation_or_404(number: str) -> Accreditation:
    found = (
        current.session()
        .scalars(
            select(Accreditation)
            .where(Accreditation.number == number[:40])
            .options(selectinload(Accreditation.cab).selectinload(Cab.sites))
        )
        .one_or_none()
    )
    if found is None:
        abort(404)
    return found


@bp.get("/")
@staff_required(*ANYONE)
def dashboard() -> Any:
    session = current.session()
    me = staff()
    open_cases = (
        select(Case).where(Case.state.in_(OPEN_STATES)).options(selectinload(Case.assessors))
    )
    mine = session.scalars(
        open_cases.where(Case.proposed_by_id == me.id).order_by(Case.id.desc()).limit(PAGE)
    ).all()
    assessing = session.scalars(
        open_cases.join(CaseAssessor)
        .where(CaseAssessor.staff_id == me.id)
        .order_by(Case.id.desc())
        .limit(PAGE)
    ).all()
    to_decide = []
    if StaffRole.DECISION_MAKER in me.roles:
        candidates = session.scalars(open_cases.order_by(Case.id).limit(PAGE * 4)).all()
        to_decide = [c for c in candidates if workflow.may_decide(c, me) is None][:PAGE]
    return render_template(
        "office/dashboard.html", mine=mine, assessing=assessing, to_decide=to_decide
    )


@bp.get("/cases")
@staff_required(*ANYONE)
def case_list() -> Any:
    session = current.session()
    query = (
        select(Case)
        .join(Cab, Cab.id == Case.cab_id)
        .options(selectinload(Case.cab), selectinload(Case.accreditation))
    )
    state = request.args.get("state", "open")
    if state == "open":
        query = query.where(Case.state.in_(OPEN_STATES))
    elif state in {s.value for s in CaseState}:
        query = query.where(Case.state == state)
    kind = request.args.get("kind", "")
    if kind in {k.value for k in CaseKind}:
        query = query.where(Case.kind == kind)
    text = request.args.get("q", "").strip()[:80]
    if text:
        pattern = f"%{text.casefold()}%"
        query = query.outerjoin(Accreditation, Accreditation.id == Case.accreditation_id).where(
            or_(
                func.lower(Case.number).like(pattern),
                func.lower(Accreditation.number).like(pattern),
                func.lower(Cab.name_en).like(pattern),
                Cab.name_th.like(f"%{text}%"),
            )
        )
    found = session.scalars(query.order_by(Case.id.desc()).limit(PAGE)).all()
    return render_template("office/cases.html", cases=found, state=state, kind=kind, q=text)


@bp.get("/cases/<number>")
@staff_required(*ANYONE)
def case_page(number: str) -> Any:
    case = get_case_or_404(number)
    session = current.session()
    me = staff()
    items = {}
    if case.accreditation_id is not None:
        items = {
            i.id: i
            for i in session.scalars(
                select(ScopeItem).where(ScopeItem.accreditation_id == case.accreditation_id)
            )
        }
    assessors = session.scalars(
        select(StaffUser)
        .join(RoleGrant, RoleGrant.staff_id == StaffUser.id)
        .where(
            RoleGrant.role == StaffRole.ASSESSOR, RoleGrant.revoked_at.is_(None), StaffUser.active
        )
        .order_by(StaffUser.name)
    ).all()
    assessor_form = forms.AssessorForm()
    assessor_form.assessor.choices = [
        (a.id, f"{a.name} <{a.email}>") for a in assessors if a.id not in case.assessor_ids
    ]
    people = {
        s.id: s for s in session.scalars(select(StaffUser).where(StaffUser.id.in_(_people(case))))
    }
    return render_template(
        "office/case.html",
        case=case,
        items=items,
        people=people,
        me=me,
        why_not_decide=workflow.may_decide(case, me),
        not_ready=workflow.ready(case),
        is_assessor=me.id in case.assessor_ids,
        forms={
            "assessor": assessor_form,
            "assessment": forms.AssessmentForm(),
            "finding": forms.FindingForm(),
            "response": forms.ResponseForm(),
            "evidence": forms.EvidenceForm(),
            "decision": forms.DecisionForm(),
            "confirm": forms.ConfirmForm(),
        },
        today=local_date(now()),
    )


def _people(case: Case) -> set[int]:
    ids = {case.proposed_by_id, *case.assessor_ids}
    if case.decided_by_id:
        ids.add(case.decided_by_id)
    ids |= {a.recorded_by_id for a in case.assessments}
    ids |= {f.recorded_by_id for f in case.findings}
    ids |= {e.uploaded_by_id for e in case.evidence}
    return ids


def _case_step(number: str, step: Any) -> Any:
    """Run one workflow step in a write transaction; show the refusal if there is one."""
    target = url_for("cases.case_page", number=number)
    try:
        with current.database().transaction() as session:
            case = workflow.find_case(session, number[:30])
            if case is None:
                abort(404)
            me = session.get(StaffUser, staff().id)
            assert me is not None
            step(session, case, me)
    except Refused as exc:
        return refused(exc, target)
    return redirect(target)


def _form_errors(form: Any, target: str) -> Any:
    for field, messages in form.errors.items():
        label = getattr(getattr(form, field, None), "label", None)
        flash(f"{label.text if label else field}: {' '.join(str(m) for m in messages)}", "error")
    return redirect(target)


@bp.post("/cases/<number>/assessors")
@staff_required(StaffRole.OFFICER)
def add_assessor(number: str) -> Any:
    form = forms.AssessorForm()
    if not form.validate_on_submit():
        return _form_errors(form, url_for("cases.case_page", number=number))

    def step(session: Any, case: Case, me: StaffUser) -> None:
        assessor = session.get(StaffUser, form.assessor.data) if form.assessor.data else None
        if assessor is None:
            raise CaseRefused(N_("Choose an assessor from the list."))
        workflow.add_assessor(session, case, assessor, by=me, now=now())

    return _case_step(number, step)


@bp.post("/cases/<number>/assessments")
@staff_required(StaffRole.ASSESSOR)
def add_assessment(number: str) -> Any:
    form = forms.AssessmentForm()
    if not form.validate_on_submit():
        return _form_errors(form, url_for("cases.case_page", number=number))
    return _case_step(
        number,
        lambda session, case, me: workflow.record_assessment(
            session,
            case,
            mode=AssessmentMode(form.mode.data),
            held_on=form.held_on.data,
            summary=form.summary.data or "",
            by=me,
            now=now(),
        ),
    )


@bp.post("/cases/<number>/findings")
@staff_required(StaffRole.ASSESSOR)
def add_finding(number: str) -> Any:
    form = forms.FindingForm()
    if not form.validate_on_submit():
        return _form_errors(form, url_for("cases.case_page", number=number))
    return _case_step(
        number,
        lambda session, case, me: workflow.record_finding(
            session,
            case,
            kind=FindingKind(form.kind.data),
            clause=form.clause.data or "",
            text=form.text.data or "",
            due=form.due.data,
            by=me,
            now=now(),
        ),
    )


def _finding(session: Any, case: Case, finding_id: int) -> Finding:
    found = session.get(Finding, finding_id)
    if found is None or found.case_id != case.id:
        abort(404)
    return found


@bp.post("/cases/<number>/findings/<int:finding_id>/response")
@staff_required(StaffRole.OFFICER)
def respond(number: str, finding_id: int) -> Any:
    form = forms.ResponseForm()
    if not form.validate_on_submit():
        return _form_errors(form, url_for("cases.case_page", number=number))
    return _case_step(
        number,
        lambda session, case, me: workflow.record_response(
            session, _finding(session, case, finding_id), form.response.data or "", by=me, now=now()
        ),
    )


@bp.post("/cases/<number>/findings/<int:finding_id>/close")
@staff_required(StaffRole.ASSESSOR)
def close_finding(number: str, finding_id: int) -> Any:
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    return _case_step(
        number,
        lambda session, case, me: workflow.close_finding(
            session, _finding(session, case, finding_id), by=me, now=now()
        ),
    )


@bp.post("/cases/<number>/evidence")
@staff_required(StaffRole.OFFICER, StaffRole.ASSESSOR)
def add_evidence(number: str) -> Any:
    form = forms.EvidenceForm()
    if not form.validate_on_submit():
        return _form_errors(form, url_for("cases.case_page", number=number))
    upload = form.file.data
    data = upload.read(workflow.MAX_EVIDENCE + 1)
    return _case_step(
        number,
        lambda session, case, me: workflow.attach_evidence(
            session,
            case,
            filename=upload.filename or "evidence",
            media_type=upload.mimetype or "",
            data=data,
            by=me,
            now=now(),
        ),
    )


@bp.get("/cases/<number>/evidence/<int:evidence_id>")
@staff_required(*ANYONE)
def evidence_file(number: str, evidence_id: int) -> Any:
    case = get_case_or_404(number)
    found = next((e for e in case.evidence if e.id == evidence_id), None)
    blob = current.session().get(Blob, found.sha256) if found else None
    if found is None or blob is None:
        abort(404)
    response = Response(blob.data, mimetype=found.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="evidence-{found.id}"'
    response.headers["Cache-Control"] = "no-store, private"
    return response


@bp.post("/cases/<number>/withdraw")
@staff_required(StaffRole.OFFICER)
def withdraw(number: str) -> Any:
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    return _case_step(
        number, lambda session, case, me: workflow.withdraw(session, case, by=me, now=now())
    )


@bp.post("/cases/<number>/decision")
@staff_required(StaffRole.DECISION_MAKER)
def decide(number: str) -> Any:
    form = forms.DecisionForm()
    if not form.validate_on_submit():
        return _form_errors(form, url_for("cases.case_page", number=number))
    case = get_case_or_404(number)
    why_not = workflow.may_decide(case, staff())
    if why_not is not None:
        abort(403, description=_(why_not))
    signer = get_document_signer()
    settings = current.settings()
    return _case_step(
        number,
        lambda session, case, me: workflow.decide(
            session,
            case,
            approve=form.outcome.data == "approve",
            note_en=form.note_en.data or "",
            note_th=form.note_th.data or "",
            by=me,
            signer=signer,
            settings=settings,
            now=now(),
        ),
    )


# --- proposing ----------------------------------------------------------------------


@bp.get("/accreditations/<number>")
@staff_required(*ANYONE)
def accreditation(number: str) -> Any:
    acc = get_accreditation_or_404(number)
    session = current.session()
    standing = standings(session, now(), [acc.id])[acc.id]
    items = session.scalars(
        select(ScopeItem).where(ScopeItem.accreditation_id == acc.id).order_by(ScopeItem.id)
    ).all()
    cases = session.scalars(
        select(Case).where(Case.accreditation_id == acc.id).order_by(Case.id.desc()).limit(PAGE)
    ).all()
    return render_template(
        "office/accreditation.html",
        acc=acc,
        standing=standing,
        items=items,
        cases=cases,
        acts=STATUS_ACTS,
        upload=forms.ScopeUploadForm(),
    )


def _act_form(acc: Accreditation, kind: CaseKind) -> forms.ActForm:
    form = forms.ActForm()
    standing = standings(current.session(), now(), [acc.id])[acc.id]
    wanted = ItemState.SUSPENDED if kind is CaseKind.REINSTATEMENT else ItemState.ACTIVE
    form.items.choices = [
        (i.id, f"{i.product_en} · {i.parameter_en} · {i.method}")
        for i in current.session().scalars(
            select(ScopeItem).where(ScopeItem.accreditation_id == acc.id).order_by(ScopeItem.id)
        )
        if standing.items.get(i.id) is wanted
    ]
    if kind not in (CaseKind.SUSPENSION, CaseKind.REINSTATEMENT):
        form.items.choices = []
    return form


@bp.route("/accreditations/<number>/propose/<kind>", methods=["GET", "POST"])
@staff_required(StaffRole.OFFICER)
def propose(number: str, kind: str) -> Any:
    acc = get_accreditation_or_404(number)
    try:
        act = CaseKind(kind)
    except ValueError:
        abort(404)
    if act is CaseKind.RENEWAL:
        form: Any = forms.RenewalForm()
    elif act in STATUS_ACTS:
        form = _act_form(acc, act)
    else:
        abort(404)
    if request.method == "GET":
        if not form.effective.data:
            form.effective.data = local_date(now())
        return render_template("office/propose.html", acc=acc, kind=act, form=form)
    if not form.validate_on_submit():
        return render_template("office/propose.html", acc=acc, kind=act, form=form), 400
    payload = (
        {"valid_until": form.valid_until.data.isoformat()} if act is CaseKind.RENEWAL else None
    )
    proposal = Proposal(
        kind=act,
        cab_id=acc.cab_id,
        accreditation_id=acc.id,
        effective=form.effective.data,
        until=getattr(form, "until", None) and form.until.data,
        items=tuple((getattr(form, "items", None) and form.items.data) or ()),
        reason_en=form.reason_en.data or "",
        reason_th=form.reason_th.data or "",
        payload=payload,
    )
    return _propose(
        proposal, lambda: render_template("office/propose.html", acc=acc, kind=act, form=form)
    )


def _propose(proposal: Proposal, again: Any) -> Any:
    try:
        with current.database().transaction() as session:
            me = session.get(StaffUser, staff().id)
            assert me is not None
            case = workflow.propose(session, proposal, by=me, now=now())
            number = case.number
    except Refused as exc:
        flash(explain(exc), "error")
        return again(), 400
    flash(_("Case %(number)s proposed. Another person decides it.", number=number), "ok")
    return redirect(url_for("cases.case_page", number=number))


@bp.get("/accreditations/<number>/scope.csv")
@staff_required(*ANYONE)
def scope_template(number: str) -> Any:
    acc = get_accreditation_or_404(number)
    session = current.session()
    standing = standings(session, now(), [acc.id])[acc.id]
    items = [
        i
        for i in session.scalars(
            select(ScopeItem).where(ScopeItem.accreditation_id == acc.id).order_by(ScopeItem.id)
        )
        if standing.items.get(i.id) in (ItemState.ACTIVE, ItemState.SUSPENDED)
    ]
    sites = {s.id: s for s in acc.cab.sites}
    response = Response(scope_import.template_csv(items, sites), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{acc.number}-scope.csv"'
    return response


def _preview(
    acc: Accreditation, data: bytes
) -> tuple[scope_import.Parsed, scope_import.ScopeDiff | None]:
    session = current.session()
    parsed = scope_import.parse(data, list(acc.cab.sites))
    if parsed.errors:
        return parsed, None
    standing = standings(session, now(), [acc.id])[acc.id]
    current_items = [
        i
        for i in session.scalars(select(ScopeItem).where(ScopeItem.accreditation_id == acc.id))
        if standing.items.get(i.id) in (ItemState.ACTIVE, ItemState.SUSPENDED)
    ]
    return parsed, scope_import.diff(current_items, parsed.rows)


@bp.post("/accreditations/<number>/scope-import")
@staff_required(StaffRole.OFFICER)
def scope_upload(number: str) -> Any:
    acc = get_accreditation_or_404(number)
    form = forms.ScopeUploadForm()
    if not form.validate_on_submit():
        return _form_errors(form, url_for("cases.accreditation", number=acc.number))
    data = form.file.data.read(scope_import.MAX_BYTES + 1)
    parsed, change = _preview(acc, data)
    confirm = forms.ScopeConfirmForm(
        formdata=None,
        content=base64.b64encode(data).decode(),
        digest=hashlib.sha256(data).hexdigest(),
    )
    status = 400 if parsed.errors else 200
    return render_template(
        "office/scope_preview.html",
        acc=acc,
        parsed=parsed,
        change=change,
        confirm=confirm,
        sites={s.id: s for s in acc.cab.sites},
        items={
            i.id: i
            for i in current.session().scalars(
                select(ScopeItem).where(ScopeItem.accreditation_id == acc.id)
            )
        },
    ), status


@bp.post("/accreditations/<number>/scope-import/confirm")
@staff_required(StaffRole.OFFICER)
def scope_confirm(number: str) -> Any:
    acc = get_accreditation_or_404(number)
    form = forms.ScopeConfirmForm()
    target = url_for("cases.accreditation", number=acc.number)
    if not form.validate_on_submit():
        return _form_errors(form, target)
    try:
        data = base64.b64decode(form.content.data or "", validate=True)
    except ValueError:
        abort(400)
    if hashlib.sha256(data).hexdigest() != form.digest.data:
        abort(400)
    parsed, change = _preview(acc, data)
    if parsed.errors or change is None or change.empty:
        flash(_("The file has errors or changes nothing: upload it again."), "error")
        return redirect(target)
    kind = CaseKind.EXTENSION if change.add or change.change else CaseKind.REDUCTION
    proposal = Proposal(
        kind=kind,
        cab_id=acc.cab_id,
        accreditation_id=acc.id,
        effective=local_date(now()),
        reason_en=form.reason_en.data or "",
        reason_th=form.reason_th.data or "",
        payload={"scope_change": change.as_payload(), "file_sha256": form.digest.data},
    )
    return _propose(proposal, lambda: redirect(target))


@bp.route("/cabs/<int:cab_id>/initial", methods=["GET", "POST"])
@staff_required(StaffRole.OFFICER)
def propose_initial(cab_id: int) -> Any:
    cab = current.session().get(Cab, cab_id) if cab_id < 2**31 else None
    if cab is None:
        abort(404)
    form = forms.InitialForm()
    again = lambda: render_template("office/initial.html", cab=cab, form=form)  # noqa: E731
    if request.method == "GET" or not form.validate_on_submit():
        return (again(), 200 if request.method == "GET" else 400)
    sites = list(current.session().scalars(select(Site).where(Site.cab_id == cab.id)))
    parsed = scope_import.parse(form.file.data.read(scope_import.MAX_BYTES + 1), sites)
    if parsed.errors:
        return render_template("office/initial.html", cab=cab, form=form, parsed=parsed), 400
    proposal = Proposal(
        kind=CaseKind.INITIAL,
        cab_id=cab.id,
        accreditation_id=None,
        effective=form.effective.data,
        payload={
            "programme": form.programme.data,
            "valid_until": form.valid_until.data.isoformat(),
            "scope": parsed.rows,
        },
    )
    return _propose(proposal, again)
