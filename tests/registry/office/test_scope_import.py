"""A scope import: every bad row named, nothing written; fixed, a case; decided, revision N+1."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from registry.cases.models import Case, CaseKind
from registry.certificates.issuance import find_accreditation, issue
from registry.certificates.models import revisions_of
from registry.changes import DEVELOPMENT
from registry.pki.material import get_document_signer
from registry.register.models import ScopeItem
from registry.staff.models import StaffRole
from registry.web import current

from .conftest import csrf_of, form_post


def current_scope(client, number: str) -> list[dict[str, str]]:
    text = client.get(f"/staff/accreditations/{number}/scope.csv").get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def as_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(client, number: str, data: bytes):
    page = client.get(f"/staff/accreditations/{number}").get_data(as_text=True)
    return client.post(
        f"/staff/accreditations/{number}/scope-import",
        data={"csrf_token": csrf_of(page), "file": (io.BytesIO(data), "scope.csv")},
        content_type="multipart/form-data",
    )


def test_a_bad_row_is_named_and_nothing_is_written_then_the_fixed_file_reissues(
    app, register, make_person, login
):
    number = register["number"]
    with current.database(app).transaction() as session:
        first = issue(
            session,
            find_accreditation(session, number),
            get_document_signer(app),
            current.settings(app),
            actor=DEVELOPMENT,
        ).certificate.number
    officer, decider = make_person(StaffRole.OFFICER), make_person(StaffRole.DECISION_MAKER)
    client = login(officer)
    rows = current_scope(client, number)
    assert len(rows) == 3 and rows[0]["site"] == "Head office"
    added = {**rows[0], "parameter_en": "Cadmium (Cd)", "parameter_th": "แคดเมียม"}
    broken = {**rows[1], "site": "Moon base", "method": ""}

    refused = upload(client, number, as_csv([*rows, added, broken]))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "nothing was written" in page
    assert "No site of this body is called Moon base." in page
    assert '<td data-label="Line">6</td>' in page and "method" in page
    thai = client.get(f"/staff/accreditations/{number}?lang=th")
    assert thai.status_code == 200
    again = upload(client, number, as_csv([*rows, added, broken])).get_data(as_text=True)
    assert "ไม่มีการบันทึกสิ่งใด" in again
    assert "หน่วยงานนี้ไม่มีสถานที่ชื่อ Moon base" in again
    client.get("/staff/?lang=en")
    with current.database(app).session() as session:
        assert session.scalars(select(Case)).all() == []

    preview = upload(client, number, as_csv([*rows, added]))
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "1 added, 0 removed, 0 changed, 3 unchanged." in text
    confirm = client.post(
        f"/staff/accreditations/{number}/scope-import/confirm",
        data={
            "csrf_token": csrf_of(text),
            "content": text.split('name="content" type="hidden" value="')[1].split('"')[0],
            "digest": text.split('name="digest" type="hidden" value="')[1].split('"')[0],
            "reason_en": "The laboratory added cadmium",
            "reason_th": "ห้องปฏิบัติการเพิ่มแคดเมียม",
        },
    )
    assert confirm.status_code == 302, confirm.get_data(as_text=True)[:2000]
    case_url = confirm.headers["Location"]
    with current.database(app).session() as session:
        case = session.scalars(select(Case)).one()
        assert case.kind is CaseKind.EXTENSION
        assert (
            session.scalar(select(ScopeItem.id).where(ScopeItem.parameter_en == "Cadmium (Cd)"))
            is None
        )

    # An extension needs an assessment: an assessor records one first.
    assessor = make_person(StaffRole.ASSESSOR)
    form_post(client, case_url, f"{case_url}/assessors", {"assessor": assessor.id})
    as_assessor = login(assessor)
    assessed = form_post(
        as_assessor,
        case_url,
        f"{case_url}/assessments",
        {"mode": "remote", "held_on": "2026-01-05", "summary": "Cadmium method verified"},
    )
    assert assessed.status_code == 302
    as_decider = login(decider)
    decided = form_post(
        as_decider,
        case_url,
        f"{case_url}/decision",
        {"outcome": "approve", "note_en": "Competent", "note_th": "มีความสามารถ"},
    )
    assert decided.status_code == 302
    assert "Certificate issued" in as_decider.get(case_url).get_data(as_text=True)

    with current.database(app).session() as session:
        acc = find_accreditation(session, number)
        revisions = revisions_of(session, acc.id)
        assert [c.number for c in revisions] == [first, f"{number}/R2"]
    public = app.test_client()
    assert public.get(f"/api/v1/certificates/{first}").json["status"] == "superseded"
    latest = public.get(f"/api/v1/certificates/{number}/R2").json
    assert latest["status"] == "current" and latest["scope"]["items"] == 4
