"""`accredit verify`: one line per file, JSON, exit codes 0-3, several processes."""

from __future__ import annotations

import json
import re

import pytest


@pytest.fixture
def instance(accredit, tmp_path):
    assert accredit("init", "--demo", "20", "--issue", "2").returncode == 0
    out = tmp_path / "cert.pdf"
    numbers = accredit("list", "--status", "valid").stdout.split()[::2]
    result = accredit("issue", numbers[-1], "-o", str(out))
    assert result.returncode == 0, result.stderr
    number = re.search(r"certificate: (\S+)", result.stdout).group(1)
    return out, number, numbers[-1]


def test_a_valid_certificate_exits_0(accredit, instance):
    pdf, number, _ = instance
    result = accredit("verify", str(pdf))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{pdf}: VALID {number}"


def test_exit_codes_follow_the_worst_file(accredit, instance, tmp_path):
    pdf, _, accreditation = instance
    modified = tmp_path / "modified.pdf"
    modified.write_bytes(pdf.read_bytes() + b"<p>valid until 2099</p>\n")
    html = tmp_path / "page.pdf"
    html.write_text("<html>not a pdf</html>")
    assert accredit("verify", str(modified)).returncode == 2
    assert accredit("verify", str(html)).returncode == 3
    # Superseded by a new revision: genuine, not current.
    assert accredit("issue", accreditation).returncode == 0
    superseded = accredit("verify", str(pdf))
    assert superseded.returncode == 1
    assert "GENUINE, NOT CURRENT (superseded)" in superseded.stdout
    everything = accredit("verify", str(pdf), str(modified), str(html), "--jobs", "2")
    assert everything.returncode == 2  # not authentic wins over unreadable
    lines = everything.stdout.splitlines()
    table = lines[lines.index("answer                    files") :]
    assert table[:6] == [
        "answer                    files",
        "valid                         0",
        "genuine, not current          1",
        "not authentic                 1",
        "unreadable                    1",
        "total                         3",
    ], everything.stdout
    assert "failed check" in table[7]
    assert any(row.startswith("parse ") for row in table[8:])
    assert "Traceback" not in everything.stderr


def test_json_reports_name_every_check(accredit, instance, tmp_path):
    pdf, number, _ = instance
    result = accredit("verify", "--json", str(pdf), str(tmp_path / "missing.pdf"))
    reports = json.loads(result.stdout)
    assert [r["verdict"] for r in reports] == ["valid", "unreadable"]
    assert reports[0]["certificate_number"] == number
    names = [c["name"] for c in reports[0]["checks"]]
    assert names == [
        "parse",
        "signature_integrity",
        "signer_trusted",
        "signer_role",
        "signature_timestamp",
        "unmodified_after_signing",
        "long_term_validation",
        "registry_binding",
        "qr_payload",
        "status",
        "public_log",
    ]
    logged = reports[0]["checks"][-1]
    assert logged["passed"], logged
    assert logged["detail"].startswith("recorded in the public log at index ")
    assert reports[1]["checks"][0]["code"] == "unreadable_file"


def test_offline_without_the_register(accredit, instance):
    pdf, _, _ = instance
    result = accredit("verify", "--offline", "--json", str(pdf))
    report = json.loads(result.stdout)[0]
    assert result.returncode == 1
    assert report["document"] == "authentic"
    assert report["status"] == "unknown"


def test_report_dir_writes_a_signed_report_per_file(accredit, instance, tmp_path):

    from verifier.validation_report import verify_signed_report

    pdf, number, _ = instance
    folder = tmp_path / "reports"
    result = accredit("verify", "--report", str(folder), str(pdf))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in folder.iterdir())
    assert written == ["cert.report.json", "cert.report.pdf"]
    jwks = json.loads((tmp_path / "instance" / "pki" / "jwks.json").read_text())
    document = verify_signed_report((folder / "cert.report.json").read_bytes(), jwks)
    assert document["answer"]["verdict"] == "valid"
    assert document["register"]["certificate"]["number"] == number
    assert document["file"]["name"] == str(pdf)
