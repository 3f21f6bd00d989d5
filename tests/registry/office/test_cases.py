"""The back office's main flow over HTTP: one person proposes, another decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from registry.cases.models import Case, CaseState
from registry.changes import AuditEntry
from registry.dates import local_date
from registry.staff.models import StaffRole
from registry.web import current

from .conftest import csrf_of, form_post

TODAY = local_date(datetime.now(UTC))


def propose_partial_suspension(client, register, items):
    number = register["number"]
    url = f"/staff/accreditations/{number}/propose/suspension"
    return form_post(
        client,
        url,
        url,
        {
            "effective": TODAY.isoformat(),
            "until": (TODAY + timedelta(days=60)).isoformat(),
            "items": items,
            "reason_en": "Proficiency testing failed for lead",
            "reason_th": "ผลการทดสอบความชำนาญเรื่องตะกั่วไม่ผ่าน",
        },
    )


def test_a_partial_suspension_proposed_by_one_and_approved_by_another(
    app, register, make_person, login
):
    officer = make_person(StaffRole.OFFICER, name="Olivia Officer")
    decider = make_person(StaffRole.DECISION_MAKER, name="Dan Decider")
    as_officer = login(officer)
    two = register["items"][:2]
    proposed = propose_partial_suspension(as_officer, register, two)
    assert proposed.status_code == 302, proposed.get_data(as_text=True)[:3000]
    case_url = proposed.headers["Location"]
    page = as_officer.get(case_url).get_data(as_text=True)
    assert "Only a decision maker decides." in page
    assert "Record the decision" not in page
    # Nothing public has changed yet.
    public = app.test_client().get(f"/api/v1/accreditations/{register['number']}").json
    assert public["accreditation"]["status"] == "valid"

    # A forged POST by the proposer is refused.
    forged = as_officer.post(
        f"{case_url}/decision",
        data={"csrf_token": csrf_of(page), "outcome": "approve", "note_en": "x", "note_th": "x"},
    )
    assert forged.status_code == 403

    as_decider = login(decider)
    decided = form_post(
        as_decider,
        case_url,
        f"{case_url}/decision",
        {
            "outcome": "approve",
            "note_en": "The suspension is justified",
            "note_th": "การพักใช้มีเหตุผลสมควร",
        },
    )
    assert decided.status_code == 302
    assert "Approved" in as_decider.get(case_url).get_data(as_text=True)

    public = app.test_client().get(f"/api/v1/accreditations/{register['number']}").json
    assert public["accreditation"]["status"] == "partially_suspended"
    suspended = {i["id"] for i in public["scope"]["items"] if i["status"] == "suspended"}
    assert suspended == set(two)

    with current.database(app).session() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "accreditation.suspended")
        ).all()
        assert [(e.actor_id, e.approver_id) for e in entries] == [(officer.id, decider.id)]
        case = session.scalars(select(Case)).one()
        assert case.state is CaseState.APPROVED and case.status_event_id is not None

    audit = as_decider.get("/staff/audit?action=accreditation.").get_data(as_text=True)
    assert "Olivia Officer" in audit and "Dan Decider" in audit


def test_the_proposer_cannot_decide_even_as_a_decision_maker(app, register, make_person, login):
    both = make_person(StaffRole.OFFICER, StaffRole.DECISION_MAKER)
    client = login(both)
    case_url = propose_partial_suspension(client, register, register["items"][:1]).headers[
        "Location"
    ]
    page = client.get(case_url).get_data(as_text=True)
    assert "The person who proposed a case cannot decide it." in page
    assert "Record the decision" not in page
    refused = client.post(
        f"{case_url}/decision",
        data={"csrf_token": csrf_of(page), "outcome": "approve", "note_en": "x", "note_th": "x"},
    )
    assert refused.status_code == 403
    assert "The person who proposed a case cannot decide it." in refused.get_data(as_text=True)


def test_an_assessor_of_a_case_can_never_decide_it(app, register, make_person, login):
    officer = make_person(StaffRole.OFFICER)
    both = make_person(StaffRole.ASSESSOR, StaffRole.DECISION_MAKER, name="Ada Assessor")
    as_officer = login(officer)
    case_url = propose_partial_suspension(as_officer, register, register["items"][:1]).headers[
        "Location"
    ]
    added = form_post(as_officer, case_url, f"{case_url}/assessors", {"assessor": both.id})
    assert added.status_code == 302
    as_both = login(both)
    page = as_both.get(case_url).get_data(as_text=True)
    assert "An assessor of a case cannot decide it." in page
    refused = as_both.post(
        f"{case_url}/decision",
        data={"csrf_token": csrf_of(page), "outcome": "approve", "note_en": "x", "note_th": "x"},
    )
    assert refused.status_code == 403
    with current.database(app).session() as session:
        assert session.scalars(select(Case)).one().state is CaseState.IN_ASSESSMENT


def test_a_refused_or_withdrawn_case_changes_nothing_public(app, register, make_person, login):
    officer = make_person(StaffRole.OFFICER)
    decider = make_person(StaffRole.DECISION_MAKER)
    as_officer = login(officer)
    first = propose_partial_suspension(as_officer, register, register["items"][:1])
    case_url = first.headers["Location"]
    as_decider = login(decider)
    refused = form_post(
        as_decider,
        case_url,
        f"{case_url}/decision",
        {"outcome": "refuse", "note_en": "Evidence too weak", "note_th": "หลักฐานไม่เพียงพอ"},
    )
    assert refused.status_code == 302
    second = propose_partial_suspension(as_officer, register, register["items"][1:2])
    withdrawn = form_post(
        as_officer, second.headers["Location"], second.headers["Location"] + "/withdraw", {}
    )
    assert withdrawn.status_code == 302
    public = app.test_client().get(f"/api/v1/accreditations/{register['number']}").json
    assert public["accreditation"]["status"] == "valid"
    assert public["history"][0]["kind"] == "granted"
    with current.database(app).session() as session:
        states = sorted(c.state.value for c in session.scalars(select(Case)))
    assert states == ["refused", "withdrawn"]
