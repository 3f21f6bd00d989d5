"""PKI settings and their sanity checks (the environment is read by ``registry.settings``)."""

from __future__ import annotations

import pytest
from cryptography.x509 import NameOID

from keys.config import PkiConfig, PkiConfigError


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"algorithm": "dsa"}, "unknown key algorithm"),
        ({"tsa_years": 30}, "must nest"),
        ({"signer_years": 21}, "must outlive"),
    ],
)
def test_bad_settings_are_explained(values, message):
    with pytest.raises(PkiConfigError, match=message):
        PkiConfig(**values)


def test_long_names_still_fit_the_common_name(make_pki):
    pki = make_pki(organisation="Office of the National Accreditation Council of the Kingdom")
    for cert in (pki.root, pki.issuing, pki.tsa, pki.ocsp, pki.signing_cert):
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        assert 0 < len(names[0].value) <= 64
