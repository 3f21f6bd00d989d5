"""Offline verification with the exported bundle and the signed status list."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from verifier.errors import VerifierError
from verifier.qr import QrClaims
from verifier.report import CertificateStatus as S
from verifier.sources import OfflineStatusSource, load_bundle
from verifier.status_list import (
    MIN_ENTRIES,
    StatusListError,
    decode_status_list,
    encode_status_list,
)

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    from keys import pki as pki_module
    from keys.config import PkiConfig

    return pki_module.create(tmp_path_factory.mktemp("offline") / "pki", PkiConfig(), None)


def claims(index: int, valid_until: date = date(2030, 1, 1)) -> QrClaims:
    return QrClaims(
        "TISI",
        "Testing-0001/R1",
        1,
        "Testing-0001",
        "Lab",
        "ISO/IEC 17025:2017",
        valid_until,
        b"\0" * 16,
        index,
    )


def test_status_list_round_trip_and_size(pki):
    statuses = {
        0: S.CURRENT,
        1: S.SUSPENDED,
        2: S.WITHDRAWN,
        3: S.SUPERSEDED,
        200_000: S.SUSPENDED,
        5: S.PARTIALLY_SUSPENDED,
    }
    data = encode_status_list(statuses, "TISI", NOW, pki.qr_signing_jwk())
    assert len(data) < 4096, "a few kilobytes, fetched whole"
    decoded = decode_status_list(data, pki.qr_jwks())
    assert decoded.size >= MIN_ENTRIES
    assert [decoded.status_at(i) for i in range(6)] == [
        S.CURRENT,
        S.SUSPENDED,
        S.WITHDRAWN,
        S.SUPERSEDED,
        S.CURRENT,
        S.CURRENT,
    ]
    assert decoded.status_at(200_000) is S.SUSPENDED
    assert abs(decoded.as_of - NOW) < timedelta(seconds=2)


def test_tampered_or_foreign_lists_are_refused(pki, make_pki):
    data = bytearray(encode_status_list({1: S.WITHDRAWN}, "TISI", NOW, pki.qr_signing_jwk()))
    data[-3] ^= 0xFF
    with pytest.raises(StatusListError, match="signature"):
        decode_status_list(bytes(data), pki.qr_jwks())
    other = make_pki()
    foreign = encode_status_list({}, "X", NOW, other.qr_signing_jwk())
    with pytest.raises(StatusListError, match="unknown key"):
        decode_status_list(foreign, pki.qr_jwks())
    with pytest.raises(StatusListError, match="damaged"):
        decode_status_list(b"\x00garbage", pki.qr_jwks())


def test_offline_answers_are_as_of_the_list_and_stale_lists_say_unknown(pki):
    data = encode_status_list(
        {7: S.SUSPENDED}, "TISI", NOW - timedelta(days=2), pki.qr_signing_jwk()
    )
    status_list = decode_status_list(data, pki.qr_jwks())
    fresh = OfflineStatusSource(status_list, timedelta(days=7), NOW)
    answer = fresh.lookup("Testing-0001/R1", [], claims(7))
    assert (answer.status, answer.source) == (S.SUSPENDED, "offline")
    assert answer.as_of == status_list.as_of
    assert fresh.lookup("x", [], claims(8)).status is S.CURRENT
    assert fresh.lookup("x", [], claims(8, date(2020, 1, 1))).status is S.EXPIRED
    stale = OfflineStatusSource(status_list, timedelta(days=1), NOW)
    assert stale.lookup("x", [], claims(7)).status is S.UNKNOWN


def test_bundle_from_the_cli_verifies_offline(accredit, tmp_path):
    assert accredit("init", "--demo", "20").returncode == 0
    number = accredit("list", "--status", "valid").stdout.split()[0]
    pdf = tmp_path / "c.pdf"
    assert accredit("issue", number, "-o", str(pdf)).returncode == 0
    bundle = tmp_path / "bundle.json"
    exported = accredit("trust", "export", "-o", str(bundle))
    assert exported.returncode == 0, exported.stderr
    content = json.loads(bundle.read_text())
    assert content["anchors"][0].startswith("-----BEGIN CERTIFICATE-----")
    assert base64.b64decode(content["status_list"])
    result = accredit(
        "verify",
        "--bundle",
        str(bundle),
        "--json",
        str(pdf),
        env={"ACCREDIT_INSTANCE": str(tmp_path / "elsewhere")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)[0]
    assert report["verdict"] == "valid"
    assert report["status_source"] == "offline"
    assert report["status_as_of"]
    assert not (tmp_path / "elsewhere").exists(), "offline verification needs no instance"
    logged = report["checks"][-1]
    assert logged["name"] == "public_log" and logged["passed"], logged
    certificate = report["certificate_number"]
    assert content["log"]["vkey"].startswith(content["log"]["checkpoint"].split("\n")[0] + "+")
    entry = content["log"]["certificates"][certificate]
    assert f"at index {entry['index']} " in logged["detail"]
    # A bundle whose proof was tampered with: the file is no longer shown authentic.
    entry["proof"][0] = base64.b64encode(bytes(32)).decode()
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(content))
    refused = accredit("verify", "--bundle", str(tampered), "--json", str(pdf))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert json.loads(refused.stdout)[0]["checks"][-1]["code"] == "bad_inclusion_proof"
    standalone_run_loads_and_writes_nothing(bundle, pdf, tmp_path / "laptop")
    trust, status = load_bundle(bundle.read_bytes())
    assert trust.anchors and status is not None
    assert {c.issuer.rfc4514_string().split(",")[0] for c in trust.crls} == {
        "CN=Thai Industrial Standards Institute Root CA",
        "CN=Thai Industrial Standards Institute Issuing CA",
    }


def test_a_bundle_with_a_broken_crl_is_refused(pki):
    bundle = {"anchors": [], "qr_keys": {"keys": []}, "crls": ["not base64!"]}
    with pytest.raises(VerifierError, match="cannot be read"):
        load_bundle(json.dumps(bundle).encode())


def test_a_broken_log_section_is_one_clear_error():
    with pytest.raises(VerifierError, match="log section cannot be read"):
        load_bundle(json.dumps({"anchors": [], "qr_keys": {}, "log": {"vkey": 1}}).encode())


def test_a_broken_bundle_is_one_clear_error():
    with pytest.raises(VerifierError, match="cannot be read"):
        load_bundle(b"{not json")


def test_unusable_trust_inputs_exit_4(accredit, tmp_path):
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    bad = tmp_path / "bundle.json"
    bad.write_text("{not json")
    result = accredit("verify", "--bundle", str(bad), str(pdf))
    assert result.returncode == 4
    assert "trust bundle cannot be read" in result.stderr
    assert "Traceback" not in result.stderr
    pem = tmp_path / "root.pem"
    pem.write_text("not a certificate")
    result = accredit("verify", "--offline", "--trust", str(pem), str(pdf))
    assert result.returncode == 4
    assert "holds no PEM certificate" in result.stderr


def standalone_run_loads_and_writes_nothing(bundle, pdf, laptop) -> None:
    """``accredit verify --bundle`` in one process: no Flask imported, no file created."""
    import os
    import subprocess
    import sys

    laptop.mkdir()
    program = (
        "import sys\n"
        "from registry.cli.main import main\n"
        "try:\n"
        f"    main(['verify', '--bundle', {str(bundle)!r}, {str(pdf)!r}])\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "entry = ('registry', 'registry.cli', 'registry.cli.main')\n"
        "loaded = sorted(m for m in sys.modules if m not in entry and m.split('.')[0]"
        " in ('flask', 'werkzeug', 'sqlalchemy', 'registry'))\n"
        "print('CODE', code, 'LOADED', loaded)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    env["ACCREDIT_INSTANCE"] = str(laptop / "instance")
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=laptop, env=env, capture_output=True, text=True
    )
    assert "CODE 0 LOADED []" in done.stdout, done.stdout + done.stderr
    assert list(laptop.iterdir()) == [], "nothing is written: no instance, no database"


def test_outside_an_instance_verify_points_to_bundle_and_registry(accredit, tmp_path):
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.7 nothing")
    result = accredit("verify", str(pdf))
    assert result.returncode == 4
    assert "--bundle FILE" in result.stderr and "--registry URL" in result.stderr
    assert "accredit init" not in result.stderr and "Traceback" not in result.stderr
    alone = accredit("verify", "--registry", "http://127.0.0.1:9", str(pdf))
    assert alone.returncode == 4
    assert "--trust ROOT.pem" in alone.stderr and "--bundle FILE" in alone.stderr
    assert not (tmp_path / "instance").exists()
