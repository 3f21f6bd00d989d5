"""One settings object, read once from ``ACCREDIT_*``; nothing else reads the environment."""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pytest

from keys.stores import FileKeyStore, Pkcs11KeyStore
from registry.app import create_app
from registry.register.programmes import Programme
from registry.settings import (
    MAX_UPLOAD_BYTES,
    Environment,
    SettingsError,
    from_environ,
    parse_recognition,
)
from verifier.policy import Limits


def test_defaults_are_embedded(tmp_path):
    found = from_environ({}, {"INSTANCE": str(tmp_path)})
    assert found.instance == tmp_path.resolve()
    assert found.database_url == f"sqlite:///{tmp_path.resolve() / 'accredit.sqlite3'}"
    assert found.env is Environment.DEVELOPMENT
    assert found.public_url == "http://127.0.0.1:5000"
    assert found.pki.organisation == found.agency_name_en
    assert isinstance(found.key_store.open(), FileKeyStore)


def test_one_upload_limit_for_requests_and_the_verifier(tmp_path):
    assert from_environ({}, {"INSTANCE": str(tmp_path)}).max_upload_bytes == MAX_UPLOAD_BYTES
    assert Limits().max_bytes == MAX_UPLOAD_BYTES
    app = create_app({"INSTANCE": str(tmp_path)})
    assert app.config["MAX_CONTENT_LENGTH"] == MAX_UPLOAD_BYTES


def test_accredit_variables_are_typed_and_nested():
    found = from_environ(
        {
            "ACCREDIT_INSTANCE": "/srv/accredit",
            "ACCREDIT_PUBLIC_URL": "https://registry.example/",
            "ACCREDIT_PAGE_CACHE": "false",
            "ACCREDIT_MAX_UPLOAD_BYTES": "1048576",
            "ACCREDIT_PKI_ALGORITHM": "rsa-3072",
            "ACCREDIT_PKI_SIGNER_YEARS": "2",
            "ACCREDIT_PKI_ORGANISATION": "Agency",
            "ACCREDIT_KEY_STORE": "pkcs11",
            "ACCREDIT_PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so",
            "ACCREDIT_PKCS11_TOKEN": "accredit",
            "ACCREDIT_PKCS11_PIN": "1234",
            "ACCREDIT_PKCS11_RAW_MECHANISM": "0",
            "ACCREDIT_SPEEDUPS": "off",
            "UNRELATED": "ignored",
        }
    )
    assert found.instance == Path("/srv/accredit")
    assert found.page_cache is False and found.speedups is False
    assert found.max_upload_bytes == 1_048_576
    assert (found.pki.algorithm, found.pki.signer_years, found.pki.organisation) == (
        "rsa-3072",
        2,
        "Agency",
    )
    assert found.pki.base_url == "https://registry.example"
    store = found.key_store.open()
    assert isinstance(store, Pkcs11KeyStore)
    assert (store.token_label, store.pin, store.raw_mechanism) == ("accredit", "1234", False)
    assert "1234" not in repr(found), "secrets stay out of logs and tracebacks"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ACCREDIT_PKI_ALGORITHM": "dsa"}, "unknown key algorithm"),
        ({"ACCREDIT_PKI_ROOT_YEARS": "ten"}, "ACCREDIT_PKI_ROOT_YEARS must be a whole number"),
        ({"ACCREDIT_PKI_TSA_YEARS": "30"}, "must nest"),
        ({"ACCREDIT_MAX_UPLOAD_BYTES": "²"}, "must be a whole number"),
        ({"ACCREDIT_ENV": "staging"}, "'development' or 'production'"),
    ],
)
def test_bad_values_are_explained(environ, message):
    with pytest.raises(SettingsError, match=message):
        from_environ(environ)


def test_key_store_settings_are_checked_when_opened():
    with pytest.raises(SettingsError, match="ACCREDIT_PKCS11_MODULE, ACCREDIT_PKCS11_TOKEN"):
        from_environ({"ACCREDIT_KEY_STORE": "pkcs11"}).key_store.open()
    with pytest.raises(SettingsError, match="unknown ACCREDIT_KEY_STORE 'cloud'"):
        from_environ({"ACCREDIT_KEY_STORE": "cloud"}).key_store.open()


def test_unknown_overrides_are_refused():
    with pytest.raises(SettingsError, match=r"unknown setting.*PAGE_SIZE"):
        from_environ({}, {"PAGE_SIZE": 50})


def test_the_secret_key_is_made_once_per_instance_with_mode_0600(tmp_path):
    found = from_environ({}, {"INSTANCE": str(tmp_path / "instance")})
    assert found.secret_key() is None, "no instance yet: nothing is written"
    assert not (tmp_path / "instance").exists()
    (tmp_path / "instance").mkdir()
    first = found.secret_key()
    assert first is not None
    assert len(first) == 64
    path = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # Every worker of the instance signs sessions with the same key.
    assert create_app({"INSTANCE": str(tmp_path / "instance")}).config["SECRET_KEY"] == first
    assert create_app({"INSTANCE": str(tmp_path / "instance")}).config["SECRET_KEY"] == first


def test_production_requires_the_secret_key_from_the_environment(tmp_path):
    found = from_environ({"ACCREDIT_ENV": "production"}, {"INSTANCE": str(tmp_path)})
    with pytest.raises(SettingsError, match="ACCREDIT_SECRET_KEY must be set in production"):
        found.secret_key()
    assert not (tmp_path / "secret_key").exists()
    given = from_environ(
        {"ACCREDIT_ENV": "production", "ACCREDIT_SECRET_KEY": "s" * 64},
        {"INSTANCE": str(tmp_path)},
    )
    assert given.secret_key() == "s" * 64


def test_keys_never_read_the_environment():
    """``keys/`` takes every setting as an argument (the settings object reads them)."""
    root = Path(__file__).resolve().parents[2] / "keys"
    for path in root.glob("*.py"):
        text = path.read_text()
        assert "os.environ" not in text and "getenv" not in text, path.name


def test_the_agency_contact_and_recognition_have_embedded_defaults():
    found = from_environ({})
    assert "Rama VI Road" in found.agency_address_en and "10400" in found.agency_address_th
    assert found.agency_report_email == found.agency_email
    assert [r.name for r in found.recognition] == ["APAC MRA", "ILAC MRA"]
    programmes = {p.value for p in Programme}
    assert all(set(r.scope) <= programmes for r in found.recognition)


def test_recognition_is_read_from_a_compact_string_or_json():
    compact = from_environ(
        {
            "ACCREDIT_RECOGNITION": "ILAC MRA|testing,calibration|2001-11-02|2031-11-01"
            "|https://ilac.org/; APAC MRA | inspection | 2019-01-01",
            "ACCREDIT_AGENCY_REPORT_EMAIL": "fraud@agency.example",
        }
    )
    ilac, apac = compact.recognition
    assert (ilac.scope, ilac.since, ilac.until) == (
        ("testing", "calibration"),
        date(2001, 11, 2),
        date(2031, 11, 1),
    )
    assert ilac.url == "https://ilac.org/" and apac.url is None and apac.until is None
    assert ilac.covers("testing") and not ilac.covers("inspection")
    assert compact.agency_report_email == "fraud@agency.example"
    as_json = from_environ(
        {
            "ACCREDIT_RECOGNITION": (
                '[{"name": "APAC MRA", "scope": ["medical"], "since": "2019-01-01"}]'
            )
        }
    )
    assert as_json.recognition[0].as_json() == {
        "name": "APAC MRA",
        "scope": ["medical"],
        "since": "2019-01-01",
        "until": None,
        "url": None,
    }
    assert parse_recognition("") == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ILAC MRA|testing", r"write NAME\|scope,scope\|since"),
        ("ILAC MRA|testing|2 Nov 2001", "must be a date like 2001-11-02"),
        ("ILAC MRA|Testing Labs|2001-11-02", "must be programme codes"),
        ("[{]", "not valid JSON"),
        ('["ILAC"]', "list of objects"),
        ('[{"scope": ["testing"], "since": "2001-11-02"}]', "needs a name"),
    ],
)
def test_bad_recognition_is_explained(value, message):
    with pytest.raises(SettingsError, match=message):
        from_environ({"ACCREDIT_RECOGNITION": value})
