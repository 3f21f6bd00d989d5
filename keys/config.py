"""PKI settings: names, validity periods and algorithm, from ``ACCREDIT_PKI_*``.

Periods are planned for verification ten years out. A B-LTA document stays
verifiable while the chain of its last document timestamp is valid, so the TSA
certificate lasts 15 years under an issuing CA of 20 years and a root of 25;
``refresh_lta`` extends a stored document before that runs out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
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

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, *, public_url: str | None = None
    ) -> PkiConfig:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"ACCREDIT_PKI_{f.name.upper()}")
            if raw in (None, ""):
                continue
            try:
                values[f.name] = int(raw) if f.type == "int" else raw
            except ValueError as exc:
                raise PkiConfigError(f"ACCREDIT_PKI_{f.name.upper()} must be a number") from exc
        if public_url and "public_url" not in values:
            values["public_url"] = public_url
        return cls(**values)  # type: ignore[arg-type]
