"""Issued certificates: scannable QR, exact Thai text, structure, size, and bad input."""

from __future__ import annotations

import hashlib
import re
import subprocess
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select

from keys.errors import CertificateNotUsable
from registry.app import create_app
from registry.certificates.issuance import IssuanceRefused, find_accreditation, issue
from registry.certificates.models import Blob, Certificate
from registry.certificates.pdf.typesetting import is_combining
from registry.changes import DEVELOPMENT, ActorKind, AuditEntry
from registry.log import leaves
from registry.log.models import LogEntry
from registry.pki.material import get_document_signer, get_pki
from registry.register.models import Accreditation
from registry.register.standings import standings
from registry.register.status import AccreditationStatus
from registry.web import current
from verifier.qr import decode_qr_payload

from ...documents import demo_instance, rolled_back
from ...keys.validation import validate_with_dss

TODAY = datetime.now(UTC)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory):
    """An instance with a PKI and 60 demo bodies, shared by this module's tests."""
    return demo_instance(
        tmp_path_factory.mktemp("register"), 60, PUBLIC_URL="https://registry.example.go.th"
    )


@pytest.fixture(scope="module")
def issued(instance) -> tuple[Certificate, bytes]:
    """One certificate, issued once for the module (signing is the slow part)."""
    return issue_number(instance, accreditation_with(instance, AccreditationStatus.VALID, 4))


@pytest.fixture
def register(instance, issued):
    """The instance, with each test's own writes rolled back."""
    with rolled_back(instance) as app:
        yield app


def accreditation_with(app, status: AccreditationStatus, min_items: int = 1) -> str:
    with current.database(app).session() as session:
        found = standings(session, TODAY)
        for acc in session.scalars(select(Accreditation).order_by(Accreditation.id)):
            if found[acc.id].status is status and len(acc.scope_items) >= min_items:
                return acc.number
    raise AssertionError(f"demo data has no {status} accreditation")


def issue_number(app, number: str, **kwargs) -> tuple[Certificate, bytes]:
    with current.database(app).transaction() as session:
        acc = find_accreditation(session, number)
        issued = issue(
            session,
            acc,
            get_document_signer(app),
            current.settings(app),
            actor=DEVELOPMENT,
            **kwargs,
        )
    return issued.certificate, issued.pdf


def pdftotext(pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_issue_records_the_blob_row_and_audit(register, issued):
    cert, pdf = issued
    assert cert.revision == 1
    assert cert.number.endswith("/R1")
    assert cert.sha256 == hashlib.sha256(pdf).hexdigest()
    with current.database(register).session() as session:
        blob = session.get(Blob, cert.sha256)
        assert blob is not None and blob.data == pdf
        audit = session.scalars(select(AuditEntry).where(AuditEntry.target_id == cert.number)).one()
        assert audit.action == "certificate.issue"
        assert audit.actor_kind is ActorKind.DEVELOPMENT
        assert audit.detail["sha256"] == cert.sha256
        assert audit.detail["signer"] == cert.signer_fingerprint
    assert validate_with_dss(pdf, get_pki(register).root).signature.bottom_line


def test_a_new_revision_supersedes_the_previous_one(register):
    number = accreditation_with(register, AccreditationStatus.PARTIALLY_SUSPENDED)
    first, _ = issue_number(register, number)
    second, _ = issue_number(register, number)
    assert (first.revision, second.revision) == (1, 2)
    with current.database(register).session() as session:
        old = session.get(Certificate, first.id)
        assert old is not None and old.superseded_by_id == second.id
        assert session.get(Certificate, second.id).superseded_by_id is None  # type: ignore[union-attr]


def test_the_head_office_comes_first_whatever_the_order_of_the_scope(register, tmp_path):
    """Branch lines recorded before the head office's still print after them."""
    from registry.register.models import ScopeItem, Site
    from registry.register.status import EventKind

    from .. import factories

    with current.database(register).transaction() as session:
        acc = factories.accreditation(session, items=0)
        head = acc.cab.sites[0]
        branch = Site(
            cab=acc.cab,
            name_en="Branch Chon Buri",
            name_th="สาขา ชลบุรี",
            address_en="99/9 Sukhumvit Road, Chon Buri 20000, Thailand",
            address_th="เลขที่ 99/9 ถนนสุขุมวิท จังหวัดชลบุรี 20000",
        )
        session.add(branch)
        session.flush()
        for site, product in ((branch, "Canned tuna"), (head, "Fruit juice")):
            acc.scope_items.append(
                ScopeItem(
                    site=site,
                    field_en="Chemical testing",
                    field_th="การทดสอบทางเคมี",
                    product_en=product,
                    product_th="ผลิตภัณฑ์",
                    parameter_en="Lead (Pb)",
                    parameter_th="ตะกั่ว",
                    method="AOAC 999.11",
                )
            )
        session.flush()
        staff = factories.staff_pair(session)
        factories.event(session, acc, EventKind.GRANTED, acc.first_granted, staff=staff)
        number = acc.number
    _, pdf = issue_number(register, number)
    text = pdftotext(pdf, tmp_path, "-raw")
    cover, annex = text.split("\f")[:2]
    assert "1 Rama IV Road" in cover and "Sukhumvit" not in cover, "the head office's address"
    assert annex.index("Site: Head office") < annex.index("Site: Branch Chon Buri")
    assert annex.index("Fruit juice") < annex.index("Canned tuna")


def test_qr_code_scans_from_page_one_at_150_dpi(issued, register, tmp_path):
    cert, pdf = issued
    (tmp_path / "c.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            str(tmp_path / "c.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    image = Image.open(next(tmp_path.glob("page*.png")))
    results = zxingcpp.read_barcodes(image)
    assert [r.format for r in results] == [zxingcpp.BarcodeFormat.QRCode]
    assert results[0].text == cert.qr_url
    claims = decode_qr_payload(results[0].text, get_pki(register).qr_jwks())
    assert claims.certificate_number == cert.number
    assert claims.revision == cert.revision
    assert claims.status_list_index == cert.status_list_index
    assert cert.qr_url.startswith("HTTPS://REGISTRY.EXAMPLE.GO.TH/V/")
    assert cert.qr_url == cert.qr_url.upper()


def test_thai_text_extracts_exactly(issued, register, tmp_path):
    cert, pdf = issued
    text = pdftotext(pdf, tmp_path)
    with current.database(register).session() as session:
        acc = session.scalars(
            select(Accreditation).where(Accreditation.id == cert.accreditation_id)
        ).one()
        assert acc.cab.name_th in text
        assert acc.cab.name_en in text
        for item in acc.scope_items[:3]:
            assert item.product_th in text
            assert item.parameter_th in text
        valid_until = acc.valid_until
    assert "สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม" in text
    assert f"พ.ศ. {valid_until.year + 543}" in text, "Thai lines carry Buddhist Era years"
    assert str(valid_until.year) in text, "English lines carry Common Era years"
    assert "\u200b" not in text


def test_no_annex_line_starts_with_a_combining_mark(issued, tmp_path):
    _, pdf = issued
    for line in pdftotext(pdf, tmp_path).splitlines():
        stripped = line.strip()
        assert not stripped or not is_combining(stripped[0]), repr(line)


def test_metadata_is_inside_the_signed_revision(issued):
    cert, pdf = issued
    reader = PdfFileReader(BytesIO(pdf))
    approval = reader.embedded_signatures[0]
    signed = pdf[: approval.byte_range[2] + approval.byte_range[3]]
    assert f"<accredit:certificateNumber>{cert.number}</accredit:certificateNumber>".encode() in (
        signed
    )
    assert f"<accredit:qrPayload>{cert.qr_url}</accredit:qrPayload>".encode() in signed
    info = reader.trailer_view["/Info"]
    assert cert.number in str(info["/Title"])
    assert f"certificate:{cert.number}" in str(info["/Keywords"])


@pytest.mark.parametrize(
    "status",
    [AccreditationStatus.WITHDRAWN, AccreditationStatus.EXPIRED, AccreditationStatus.SUSPENDED],
)
def test_issuing_is_refused_for_stopped_accreditations(register, status):
    number = accreditation_with(register, status)
    with pytest.raises(IssuanceRefused, match=number):
        issue_number(register, number)


def test_signing_failure_records_nothing(register):
    number = accreditation_with(register, AccreditationStatus.VALID)
    database = current.database(register)
    with database.session() as session:
        before = session.scalar(select(func.count()).select_from(Certificate))
    with pytest.raises(CertificateNotUsable):
        issue_number(register, number, now=TODAY + timedelta(days=365 * 4))
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Certificate)) == before


def test_cli_issue_and_refusals(accredit, tmp_path):
    env = {"ACCREDIT_PUBLIC_URL": "https://registry.example.go.th"}
    assert accredit("init", "--demo", "40", env=env).returncode == 0
    listed = accredit("list", "--status", "valid", env=env).stdout.split()
    out = tmp_path / "cert.pdf"
    result = accredit("issue", listed[0], "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert re.search(r"certificate: \S+/R1", result.stdout)
    assert re.search(r"sha256: +[0-9a-f]{64}", result.stdout)
    assert "qr url:      HTTPS://REGISTRY.EXAMPLE.GO.TH/V/" in result.stdout
    assert hashlib.sha256(out.read_bytes()).hexdigest() in result.stdout
    withdrawn = accredit("list", "--status", "withdrawn", env=env).stdout.split()[0]
    refused = accredit("issue", withdrawn, env=env)
    assert refused.returncode == 1
    assert "is withdrawn" in refused.stderr and "Traceback" not in refused.stderr
    unknown = accredit("issue", "Testing-9999999", env=env)
    assert unknown.returncode == 1
    assert "no accreditation numbered" in unknown.stderr


def test_refresh_lta_serves_a_refreshed_copy_and_keeps_the_original(accredit, tmp_path):
    assert accredit("init", "--demo", "20").returncode == 0
    number = accredit("list", "--status", "valid").stdout.split()[0]
    assert accredit("issue", number).returncode == 0
    nothing = accredit("documents", "refresh-lta", "--before", "2000-01-01")
    assert "0 of 1 certificates refreshed" in nothing.stdout
    result = accredit("documents", "refresh-lta", "--before", "2099-01-01")
    assert result.returncode == 0, result.stderr
    assert "1 of 1 certificates refreshed" in result.stdout
    app = create_app({"INSTANCE": str(tmp_path / "instance")})
    with current.database(app).session() as session:
        cert = session.scalars(select(Certificate)).one()
        [audit] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "certificate.refresh_lta")
        )
        assert audit.target_id == cert.number
        assert audit.detail == {
            "original": cert.sha256,
            "previous": cert.sha256,
            "served": cert.served_sha256,
            "log_index": audit.detail["log_index"],
        }
        entry = session.get(LogEntry, audit.detail["log_index"])
        assert entry is not None and leaves.decode(entry.data)["served"] == cert.served_sha256
        original = session.get(Blob, cert.sha256)
        served = session.get(Blob, cert.current_sha256)
        assert original is not None and served is not None
        assert cert.served_sha256 and cert.served_sha256 != cert.sha256
        assert served.data.startswith(original.data), "the refresh only appends"
        stamps = [
            s
            for s in PdfFileReader(BytesIO(served.data)).embedded_signatures
            if s.sig_object_type == "/DocTimeStamp"
        ]
        assert len(stamps) == 2
        root = get_pki(app).root
        number = cert.number
    assert validate_with_dss(served.data, root).signature.bottom_line
    assert app.test_client().get(f"/c/{number}.pdf").data == served.data


def test_the_registry_serves_the_pdf_with_an_etag(register, issued):
    cert, pdf = issued
    client = register.test_client()
    response = client.get(f"/c/{cert.number}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == pdf
    assert response.headers["ETag"] == f'"{cert.sha256}"'
    again = client.get(f"/c/{cert.number}.pdf", headers={"If-None-Match": f'"{cert.sha256}"'})
    assert again.status_code == 304
    assert client.get("/c/Testing-0000/R9.pdf").status_code == 404
