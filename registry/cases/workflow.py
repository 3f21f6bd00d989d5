"""A case's life: proposal, assessment, decision, effect, and the certificate it implies.

Each step is one function that checks who may take it, changes the case in
the caller's transaction and records the step through ``changes.record``.
Until a case is approved, nothing public changes (every step before is an
audit entry only). Approval applies the act through the one write path
(``acts.decisions``, ``changes``) and, where the act changes what the
certificate says, issues the next revision in the same transaction: the
signature, the status event and the audit entries land together or not at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from keys.signing import DocumentSigner

from .. import changes, version
from ..acts.decisions import DecisionRefused, record
from ..certificates.issuance import IssuanceRefused, issue
from ..certificates.models import Blob
from ..changes import Actor, Change
from ..dates import local_date
from ..refusals import N_, Refused
from ..register.models import Accreditation, Cab, ScopeItem, StatusEvent
from ..register.programmes import Programme, accreditation_number
from ..register.standings import standings
from ..register.status import AccreditationStatus, EventKind, ItemState
from ..settings import Settings
from ..staff.models import StaffRole, StaffUser
from .models import (
    ASSESSED_KINDS,
    REISSUING_KINDS,
    Assessment,
    AssessmentMode,
    Case,
    CaseAssessor,
    CaseKind,
    CaseState,
    Evidence,
    Finding,
    FindingKind,
)

#: What evidence may be, and how big.
EVIDENCE_TYPES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "text/csv": (),
    "text/plain": (),
}
MAX_EVIDENCE = 10 * 1024 * 1024
MAX_TEXT = 4000

#: The status event each act leaves, when approved.
EVENT_OF = {
    CaseKind.SUSPENSION: EventKind.SUSPENDED,
    CaseKind.REINSTATEMENT: EventKind.REINSTATED,
    CaseKind.WITHDRAWAL: EventKind.WITHDRAWN,
    CaseKind.VOLUNTARY_WITHDRAWAL: EventKind.VOLUNTARILY_WITHDRAWN,
    CaseKind.RENEWAL: EventKind.RENEWED,
}


class CaseRefused(Refused):
    """A step that cannot be taken; the message says why, in plain words."""


#: Who may take a step, in words, by the roles it needs.
NEEDS = {
    (StaffRole.OFFICER,): N_("Only an officer can do this."),
    (StaffRole.ASSESSOR,): N_("Only an assessor can do this."),
    (StaffRole.OFFICER, StaffRole.ASSESSOR): N_("Only an officer or an assessor can do this."),
}


def _require(staff: StaffUser, *roles: StaffRole) -> None:
    if not staff.active or not staff.has(*roles):
        raise CaseRefused(NEEDS[roles])


def _text(value: str, what: str, *, required: bool = False) -> str:
    """Tidy free text; ``what`` names the field in refusals ("reason_en", "summary")."""
    cleaned = value.strip()
    if required and not cleaned:
        raise CaseRefused(N_("The field %(field)s is required."), field=what)
    if len(cleaned) > MAX_TEXT:
        raise CaseRefused(
            N_("The field %(field)s has at most %(limit)s characters."), field=what, limit=MAX_TEXT
        )
    return cleaned


def _audit(
    session: Session, case: Case, action: str, by: StaffUser, now: datetime, **detail: Any
) -> None:
    changes.record(
        session,
        Change(
            action=f"case.{action}",
            target_type="case",
            target_id=case.number,
            actor=Actor.staff(by.id),
            detail={"kind": case.kind.value, **detail},
            public=False,
        ),
        now,
    )


def next_case_number(session: Session, now: datetime) -> str:
    year = local_date(now).year
    prefix = f"C-{year}-"
    last = session.scalar(select(func.max(Case.number)).where(Case.number.like(f"{prefix}%")))
    seq = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{seq:05d}"


# --- proposal -----------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """What an officer asks for; ``payload`` holds the act's own particulars."""

    kind: CaseKind
    cab_id: int
    accreditation_id: int | None
    effective: date
    reason_en: str = ""
    reason_th: str = ""
    until: date | None = None
    #: Scope item ids (partial suspension, reinstatement of items).
    items: tuple[int, ...] = ()
    #: Kind-specific: a new cycle (renewal), a scope change (extension, reduction),
    #: a programme and first scope (initial).
    payload: dict[str, Any] | None = None


def propose(session: Session, proposal: Proposal, *, by: StaffUser, now: datetime) -> Case:
    """Open a case for ``proposal``; refuses what could never be approved."""
    _require(by, StaffRole.OFFICER)
    version.lock(session)  # case numbers are allocated in order
    cab = session.get(Cab, proposal.cab_id)
    if cab is None:
        raise CaseRefused(N_("There is no such body."))
    acc = (
        session.get(Accreditation, proposal.accreditation_id) if proposal.accreditation_id else None
    )
    kind = proposal.kind
    if kind is CaseKind.INITIAL:
        if acc is not None:
            raise CaseRefused(N_("An initial accreditation case creates its own accreditation."))
    else:
        if acc is None or acc.cab_id != cab.id:
            raise CaseRefused(N_("Choose an accreditation of this body."))
        open_cases = session.scalar(
            select(func.count()).where(
                Case.accreditation_id == acc.id,
                Case.kind == kind,
                Case.state.in_([CaseState.PROPOSED, CaseState.IN_ASSESSMENT]),
            )
        )
        if open_cases:
            raise CaseRefused(N_("A case of this kind is already open for this accreditation."))
    reason_en = _text(proposal.reason_en, "reason_en", required=kind in REASONED)
    reason_th = _text(proposal.reason_th, "reason_th", required=kind in REASONED)
    payload = dict(proposal.payload or {})
    if proposal.items:
        payload["items"] = sorted(set(proposal.items))
    _check_proposal(session, kind, acc, proposal, payload, now)
    case = Case(
        number=next_case_number(session, now),
        kind=kind,
        state=CaseState.IN_ASSESSMENT if kind in ASSESSED_KINDS else CaseState.PROPOSED,
        cab_id=cab.id,
        accreditation_id=acc.id if acc else None,
        proposed_by_id=by.id,
        proposed_at=now,
        reason_en=reason_en,
        reason_th=reason_th,
        effective_date=proposal.effective,
        end_date=proposal.until,
        payload=payload,
    )
    session.add(case)
    session.flush()
    _audit(session, case, "propose", by, now, accreditation=acc.number if acc else None)
    return case


#: Acts whose reason the public reads: both languages are required.
REASONED = frozenset(
    {
        CaseKind.SUSPENSION,
        CaseKind.WITHDRAWAL,
        CaseKind.VOLUNTARY_WITHDRAWAL,
        CaseKind.REINSTATEMENT,
    }
)


def _check_proposal(
    session: Session,
    kind: CaseKind,
    acc: Accreditation | None,
    proposal: Proposal,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    today = local_date(now)
    if proposal.until is not None and kind is not CaseKind.SUSPENSION:
        raise CaseRefused(N_("Only a suspension has an end date."))
    if proposal.until is not None and proposal.until < proposal.effective:
        raise CaseRefused(N_("A suspension cannot end before it starts."))
    if kind in REISSUING_KINDS and proposal.effective > today:
        raise CaseRefused(N_("This act takes effect when it is decided: choose today or earlier."))
    if acc is None:
        programme = payload.get("programme")
        if programme not in {p.value for p in Programme}:
            raise CaseRefused(N_("Choose the programme of the new accreditation."))
        if not payload.get("scope"):
            raise CaseRefused(N_("An initial accreditation needs its scope: import it as CSV."))
        until = payload.get("valid_until")
        if not until or date.fromisoformat(until) <= proposal.effective:
            raise CaseRefused(N_("The cycle of a new accreditation ends after it starts."))
        return
    standing = standings(session, now, [acc.id])[acc.id]
    status = standing.status
    if status in (AccreditationStatus.WITHDRAWN, AccreditationStatus.PENDING):
        raise CaseRefused(N_("%(number)s can no longer be changed by any act."), number=acc.number)
    items = set(payload.get("items", ()))
    in_scope = {
        i for i, s in standing.items.items() if s in (ItemState.ACTIVE, ItemState.SUSPENDED)
    }
    if items - set(standing.items):
        raise CaseRefused(N_("The scope items chosen do not belong to this accreditation."))
    if kind is CaseKind.SUSPENSION:
        if status is AccreditationStatus.SUSPENDED:
            raise CaseRefused(N_("%(number)s is already suspended."), number=acc.number)
        active = {i for i, s in standing.items.items() if s is ItemState.ACTIVE}
        if items and not items <= active:
            raise CaseRefused(N_("Only scope items in force can be suspended."))
    elif kind is CaseKind.REINSTATEMENT:
        if not standing.suspended_items and status is not AccreditationStatus.SUSPENDED:
            raise CaseRefused(N_("Nothing of %(number)s is suspended."), number=acc.number)
        if items and not items <= standing.suspended_items:
            raise CaseRefused(N_("Only suspended scope items can be reinstated."))
    elif kind is CaseKind.RENEWAL:
        until = payload.get("valid_until")
        if not until or date.fromisoformat(until) <= acc.valid_until:
            raise CaseRefused(N_("A renewal moves the end of the cycle later."))
    elif kind in (CaseKind.EXTENSION, CaseKind.REDUCTION):
        change = payload.get("scope_change") or {}
        if not (change.get("add") or change.get("remove") or change.get("change")):
            raise CaseRefused(
                N_("The scope change is empty: nothing would be extended or reduced.")
            )
        removed = set(change.get("remove", ())) | {c["item"] for c in change.get("change", ())}
        if removed - in_scope:
            raise CaseRefused(N_("Only scope items in force can be removed or changed."))


# --- assessment ---------------------------------------------------------------------


def _open_case(case: Case) -> None:
    if not case.open:
        raise CaseRefused(
            N_("Case %(number)s is closed: it can no longer change."), number=case.number
        )


def add_assessor(
    session: Session, case: Case, assessor: StaffUser, *, by: StaffUser, now: datetime
) -> None:
    """Record ``assessor`` on the case: from now on they can never decide it."""
    _require(by, StaffRole.OFFICER)
    _open_case(case)
    _require(assessor, StaffRole.ASSESSOR)
    if assessor.id in case.assessor_ids:
        raise CaseRefused(N_("%(name)s is already an assessor of this case."), name=assessor.name)
    session.add(
        CaseAssessor(case_id=case.id, staff_id=assessor.id, added_at=now, added_by_id=by.id)
    )
    if case.state is CaseState.PROPOSED:
        case.state = CaseState.IN_ASSESSMENT
    session.flush()
    session.refresh(case, ["assessors"])
    _audit(session, case, "assessor", by, now, assessor=assessor.email)


def _assessor_of(case: Case, staff: StaffUser) -> None:
    _require(staff, StaffRole.ASSESSOR)
    if staff.id not in case.assessor_ids:
        raise CaseRefused(N_("Only an assessor recorded on this case can do this."))


def record_assessment(
    session: Session,
    case: Case,
    *,
    mode: AssessmentMode,
    held_on: date,
    summary: str,
    by: StaffUser,
    now: datetime,
) -> Assessment:
    _open_case(case)
    _assessor_of(case, by)
    if held_on > local_date(now):
        raise CaseRefused(N_("An assessment is recorded once it has been held."))
    assessment = Assessment(
        case_id=case.id,
        mode=mode,
        held_on=held_on,
        summary=_text(summary, "summary", required=True),
        recorded_by_id=by.id,
        recorded_at=now,
    )
    session.add(assessment)
    session.flush()
    session.refresh(case, ["assessments"])
    _audit(session, case, "assessment", by, now, mode=mode.value, held_on=held_on.isoformat())
    return assessment


def record_finding(
    session: Session,
    case: Case,
    *,
    kind: FindingKind,
    text: str,
    clause: str = "",
    due: date | None,
    by: StaffUser,
    now: datetime,
) -> Finding:
    _open_case(case)
    _assessor_of(case, by)
    if kind is not FindingKind.OBSERVATION and due is None:
        raise CaseRefused(N_("A nonconformity needs a due date for the body's response."))
    finding = Finding(
        case_id=case.id,
        assessment_id=case.assessments[-1].id if case.assessments else None,
        kind=kind,
        clause=_text(clause, "clause")[:40],
        text=_text(text, "text", required=True),
        due_date=due,
        recorded_by_id=by.id,
        recorded_at=now,
    )
    session.add(finding)
    session.flush()
    session.refresh(case, ["findings"])
    _audit(session, case, "finding", by, now, finding=finding.id, finding_kind=kind.value)
    return finding


def record_response(
    session: Session, finding: Finding, response: str, *, by: StaffUser, now: datetime
) -> None:
    """The body's response to a finding, as the officer received it."""
    _open_case(finding.case)
    _require(by, StaffRole.OFFICER)
    finding.response = _text(response, "response", required=True)
    finding.responded_at = now
    _audit(session, finding.case, "response", by, now, finding=finding.id)


def close_finding(session: Session, finding: Finding, *, by: StaffUser, now: datetime) -> None:
    """An assessor accepts the body's response: the nonconformity is closed."""
    _open_case(finding.case)
    _assessor_of(finding.case, by)
    if finding.responded_at is None and finding.kind is not FindingKind.OBSERVATION:
        raise CaseRefused(N_("A nonconformity is closed after the body has responded."))
    finding.closed_at = now
    finding.closed_by_id = by.id
    _audit(session, finding.case, "close_finding", by, now, finding=finding.id)


def attach_evidence(
    session: Session,
    case: Case,
    *,
    filename: str,
    media_type: str,
    data: bytes,
    by: StaffUser,
    now: datetime,
    finding: Finding | None = None,
) -> Evidence:
    """Keep a file for the case by its SHA-256; it is never served publicly."""
    _open_case(case)
    _require(by, StaffRole.OFFICER, StaffRole.ASSESSOR)
    media_type = media_type.split(";")[0].strip().lower()
    if media_type not in EVIDENCE_TYPES:
        raise CaseRefused(N_("Evidence is a PDF, PNG, JPEG, CSV or plain text file."))
    if not data:
        raise CaseRefused(N_("The file is empty."))
    if len(data) > MAX_EVIDENCE:
        raise CaseRefused(
            N_("Evidence files are at most %(mb)s MB."), mb=MAX_EVIDENCE // (1024 * 1024)
        )
    magic = EVIDENCE_TYPES[media_type]
    if magic and not data.startswith(magic):
        raise CaseRefused(N_("The file is not really of the type %(type)s."), type=media_type)
    if not magic:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise CaseRefused(N_("A text file must be UTF-8.")) from None
    digest = hashlib.sha256(data).hexdigest()
    if session.get(Blob, digest) is None:
        session.add(
            Blob(sha256=digest, size=len(data), media_type=media_type, data=data, created_at=now)
        )
    name = "".join(c for c in filename if c.isprintable() and c not in "/\\")[-200:] or "evidence"
    evidence = Evidence(
        case_id=case.id,
        finding_id=finding.id if finding else None,
        filename=name,
        media_type=media_type,
        size=len(data),
        sha256=digest,
        uploaded_by_id=by.id,
        uploaded_at=now,
    )
    session.add(evidence)
    session.flush()
    session.refresh(case, ["evidence"])
    _audit(session, case, "evidence", by, now, sha256=digest, size=len(data))
    return evidence


def withdraw(session: Session, case: Case, *, by: StaffUser, now: datetime) -> None:
    """The proposer (or another officer) takes the case back: nothing public changes."""
    _open_case(case)
    _require(by, StaffRole.OFFICER)
    case.state = CaseState.WITHDRAWN
    case.closed_at = now
    _audit(session, case, "withdraw", by, now)


# --- decision -----------------------------------------------------------------------


def may_decide(case: Case, staff: StaffUser) -> str | None:
    """Why ``staff`` may not decide ``case`` (None: they may). ISO/IEC 17011's rule."""
    if not staff.active or StaffRole.DECISION_MAKER not in staff.roles:
        return N_("Only a decision maker decides.")
    if staff.id == case.proposed_by_id:
        return N_("The person who proposed a case cannot decide it.")
    if staff.id in case.assessor_ids:
        return N_("An assessor of a case cannot decide it.")
    if not case.open:
        return N_("This case is already closed.")
    return None


def ready(case: Case) -> str | None:
    """What still stands between an approval and ``case`` (None: nothing)."""
    if case.kind in ASSESSED_KINDS and not case.assessments:
        return N_("This act needs an assessment first.")
    if any(f.open for f in case.findings):
        return N_("Every nonconformity must be closed first.")
    return None


@dataclass(frozen=True)
class Decided:
    case: Case
    event: StatusEvent | None
    pdf: bytes | None


def decide(
    session: Session,
    case: Case,
    *,
    approve: bool,
    note_en: str,
    note_th: str,
    by: StaffUser,
    signer: DocumentSigner,
    settings: Settings,
    now: datetime,
) -> Decided:
    """Approve or refuse ``case``; an approval takes effect and reissues where it must."""
    version.lock(session)
    session.refresh(case)
    refused = may_decide(case, by)
    if refused:
        raise CaseRefused(refused)
    note_en = _text(note_en, "note_en", required=True)
    note_th = _text(note_th, "note_th", required=True)
    if approve and (blocked := ready(case)):
        raise CaseRefused(blocked)
    case.decided_by_id = by.id
    case.decided_at = now
    case.decision_note_en = note_en
    case.decision_note_th = note_th
    case.closed_at = now
    case.state = CaseState.APPROVED if approve else CaseState.REFUSED
    session.flush()
    _audit(session, case, "approve" if approve else "refuse", by, now)
    if not approve:
        return Decided(case, None, None)
    try:
        event = _apply(session, case, by, now)
        pdf = None
        if case.kind in REISSUING_KINDS:
            acc = case.accreditation
            assert acc is not None
            issued = issue(
                session,
                acc,
                signer,
                settings,
                actor=Actor.staff(case.proposed_by_id),
                approver=Actor.staff(by.id),
                now=now,
            )
            case.certificate_id = issued.certificate.id
            pdf = issued.pdf
    except (DecisionRefused, IssuanceRefused) as exc:
        raise CaseRefused(N_("The act cannot take effect: %(why)s"), why=str(exc)) from exc
    case.status_event_id = event.id if event else None
    session.flush()
    return Decided(case, event, pdf)


def _apply(session: Session, case: Case, by: StaffUser, now: datetime) -> StatusEvent | None:
    """The act's effect on the register, through the one write path."""
    proposer = session.get(StaffUser, case.proposed_by_id)
    assert proposer is not None
    acc = case.accreditation
    if case.kind is CaseKind.INITIAL:
        acc = _create_accreditation(session, case, now)
        case.accreditation_id = acc.id
        case.accreditation = acc
        return record(
            session,
            acc,
            EventKind.GRANTED,
            case.effective_date,
            proposed_by=proposer,
            approved_by=by,
            reason_en=case.reason_en or case.decision_note_en,
            reason_th=case.reason_th or case.decision_note_th,
            now=now,
        )
    assert acc is not None
    if case.kind in (CaseKind.EXTENSION, CaseKind.REDUCTION):
        return _change_scope(session, case, acc, proposer, by, now)
    if case.kind is CaseKind.RENEWAL:
        acc.valid_from = case.effective_date
        acc.valid_until = date.fromisoformat(case.payload["valid_until"])
        session.flush()
    items = _items(session, acc, case.payload.get("items", ()))
    return record(
        session,
        acc,
        EVENT_OF[case.kind],
        case.effective_date,
        proposed_by=proposer,
        approved_by=by,
        reason_en=case.reason_en or case.decision_note_en,
        reason_th=case.reason_th or case.decision_note_th,
        items=items,
        until=case.end_date,
        now=now,
    )


def _items(session: Session, acc: Accreditation, ids: Any) -> list[ScopeItem]:
    wanted = set(ids)
    if not wanted:
        return []
    found = list(
        session.scalars(
            select(ScopeItem).where(ScopeItem.accreditation_id == acc.id, ScopeItem.id.in_(wanted))
        )
    )
    if len(found) != len(wanted):
        raise CaseRefused(N_("A scope item of this case is no longer in the register."))
    return found


def _new_items(acc: Accreditation, rows: list[dict[str, Any]]) -> list[ScopeItem]:
    return [
        ScopeItem(
            accreditation=acc,
            site_id=row["site_id"],
            field_en=row["field_en"],
            field_th=row["field_th"],
            product_en=row["product_en"],
            product_th=row["product_th"],
            parameter_en=row["parameter_en"],
            parameter_th=row["parameter_th"],
            method=row["method"],
            range_text=row.get("range") or None,
            cmc_text=row.get("cmc") or None,
        )
        for row in rows
    ]


def _change_scope(
    session: Session,
    case: Case,
    acc: Accreditation,
    proposer: StaffUser,
    by: StaffUser,
    now: datetime,
) -> StatusEvent | None:
    """Extension and reduction: new items come in, old ones go out, in one act.

    A changed line (its range, CMC or wording) is the old item reduced and a
    new item extended: history keeps what the scope said before.
    """
    change = case.payload["scope_change"]
    removed = _items(
        session, acc, [*change.get("remove", ()), *(c["item"] for c in change.get("change", ()))]
    )
    added = _new_items(acc, [*change.get("add", ()), *(c["row"] for c in change.get("change", ()))])
    session.add_all(added)
    session.flush()
    event = None
    common = {
        "proposed_by": proposer,
        "approved_by": by,
        "reason_en": case.reason_en or case.decision_note_en,
        "reason_th": case.reason_th or case.decision_note_th,
        "now": now,
    }
    if removed:
        event = record(
            session, acc, EventKind.REDUCED, case.effective_date, items=removed, **common
        )
    if added:
        event = record(session, acc, EventKind.EXTENDED, case.effective_date, items=added, **common)
    return event


def _create_accreditation(session: Session, case: Case, now: datetime) -> Accreditation:
    payload = case.payload
    programme = Programme(payload["programme"])
    seq = 1 + (
        session.scalar(select(func.count()).where(Accreditation.programme == programme)) or 0
    )
    number = accreditation_number(programme, seq)
    while session.scalar(select(func.count()).where(Accreditation.number == number)):
        seq += 1
        number = accreditation_number(programme, seq)
    valid_until = date.fromisoformat(payload["valid_until"])
    acc = Accreditation(
        number=number,
        cab_id=case.cab_id,
        programme=programme,
        standard=payload.get("standard") or programme.standard,
        first_granted=case.effective_date,
        valid_from=case.effective_date,
        valid_until=valid_until,
    )
    session.add(acc)
    session.flush()
    session.add_all(_new_items(acc, payload["scope"]))
    session.flush()
    return acc


def find_case(session: Session, number_or_id: str | int) -> Case | None:
    query = select(Case).options(
        selectinload(Case.assessors).selectinload(CaseAssessor.staff),
        selectinload(Case.assessments),
        selectinload(Case.findings),
        selectinload(Case.evidence),
        selectinload(Case.cab),
        selectinload(Case.accreditation),
    )
    if isinstance(number_or_id, int):
        return session.scalars(query.where(Case.id == number_or_id)).one_or_none()
    return session.scalars(query.where(Case.number == number_or_id)).one_or_none()
