"""PKI settings: names, validity periods and algorithm.

The registry reads them from ``ACCREDIT_PKI_*`` (``registry.settings``); this
package only takes them as arguments.

Periods are planned for verification ten years out. A B-LTA document stays
verifiable while the chain of its last document timestamp is valid, so the TSA
certificate lasts 15 years under an issuing CA of 20 years and a root of 25;
``refresh_lta`` extends a stored document before that runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Algorithm = Literal["ec-p256", "rsa-3072"]
ALGORITHMS: tuple[Algorithm, ...] = ("ec-p256", "rsa-3072")


class PkiConfigError(ValueError):
    pass


@dataclass(frozen=True)
class PkiConfig:
    public_url: str = "http://127.0.0.1:5000"
    organisation: str = "Thai Industrial Standards Institute"
    country: str = "TH"
    algorithm: Algorithm = "ec-p256"
    root_years: int = 25
    issuing_years: int = 20
    tsa_years: int = 15
    ocsp_years: int = 5
    signer_years: int = 3
    #: How long a CRL or OCSP response is good for before a fresh one is made.
    crl_days: int = 7
    ocsp_hours: int = 24
    #: RFC 3161 policy the agency TSA issues under (default: anyPolicy).
    tsa_policy_oid: str = "2.5.29.32.0"

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise PkiConfigError(
                f"unknown key algorithm {self.algorithm!r}; use one of {', '.join(ALGORITHMS)}"
            )
        if not (self.root_years > self.issuing_years >= self.tsa_years):
            raise PkiConfigError("validity must nest: root > issuing CA >= TSA")
        if self.issuing_years <= max(self.signer_years, self.ocsp_years):
            raise PkiConfigError("the issuing CA must outlive the certificates it issues")

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/")
