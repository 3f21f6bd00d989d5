"""PKI settings from the environment, and their sanity checks."""

from __future__ import annotations

import pytest
from cryptography.x509 import NameOID

from keys.config import PkiConfig, PkiConfigError


def test_settings_come_from_accredit_pki_variables():
    config = PkiConfig.from_environ(
        {
            "ACCREDIT_PKI_ALGORITHM": "rsa-3072",
            "ACCREDIT_PKI_SIGNER_YEARS": "2",
            "ACCREDIT_PKI_ORGANISATION": "Agency",
        },
        public_url="https://registry.example/",
    )
    assert config.algorithm == "rsa-3072"
    assert config.signer_years == 2
    assert config.organisation == "Agency"
    assert config.base_url == "https://registry.example"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ACCREDIT_PKI_ALGORITHM": "dsa"}, "unknown key algorithm"),
        ({"ACCREDIT_PKI_ROOT_YEARS": "ten"}, "must be a number"),
        ({"ACCREDIT_PKI_TSA_YEARS": "30"}, "must nest"),
        ({"ACCREDIT_PKI_SIGNER_YEARS": "21"}, "must outlive"),
    ],
)
def test_bad_settings_are_explained(env, message):
    with pytest.raises(PkiConfigError, match=message):
        PkiConfig.from_environ(env)


def test_long_names_still_fit_the_common_name(make_pki):
    pki = make_pki(organisation="Office of the National Accreditation Council of the Kingdom")
    for cert in (pki.root, pki.issuing, pki.tsa, pki.ocsp, pki.signing_cert):
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        assert 0 < len(names[0].value) <= 64
