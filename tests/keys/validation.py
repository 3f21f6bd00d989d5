"""Independent checks of our signatures: pyHanko's validators and poppler's pdfsig."""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from asn1crypto.crl import CertificateList
from asn1crypto.ocsp import OCSPResponse
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESSubIndic
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    ades,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import DocumentTimestampStatus, PdfSignatureStatus
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleTrustManager


def asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@dataclass
class Validated:
    signature: PdfSignatureStatus
    timestamps: list[DocumentTimestampStatus]
    dss: DocumentSecurityStore


def validate_with_dss(
    pdf: bytes,
    root: x509.Certificate,
    *,
    crls: tuple[bytes, ...] = (),
    ocsps: tuple[bytes, ...] = (),
    moment: datetime | None = None,
) -> Validated:
    """pyHanko validation, trusting only ``root``, with the file's own DSS and no fetching."""
    reader = PdfFileReader(BytesIO(pdf))
    dss = DocumentSecurityStore.read_dss(reader)
    kwargs = {
        "trust_roots": [asn1(root)],
        "allow_fetching": False,
        "revocation_mode": "hard-fail",
        "crls": [CertificateList.load(c) for c in crls],
        "ocsps": [OCSPResponse.load(o) for o in ocsps],
    }
    if moment is not None:
        kwargs["moment"] = moment
    vc = dss.as_validation_context(kwargs)
    sigs = reader.embedded_signatures
    approval = [s for s in sigs if s.sig_object_type == "/Sig"]
    assert len(approval) == 1
    status = validate_pdf_signature(
        approval[0], signer_validation_context=vc, ts_validation_context=vc
    )
    stamps = [
        validate_pdf_timestamp(s, validation_context=vc)
        for s in sigs
        if s.sig_object_type == "/DocTimeStamp"
    ]
    return Validated(status, stamps, dss)


def lta_spec(
    root: x509.Certificate, freshness: timedelta | None = None
) -> PdfSignatureValidationSpec:
    """AdES validation with local data only; ``freshness`` accepts embedded revocation data."""
    revinfo = CertRevTrustPolicy(
        revocation_checking_policy=REQUIRE_REVINFO,
        freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
        freshness=freshness,
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build([asn1(root)]), revinfo_policy=revinfo
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )


def ades_lta(
    pdf: bytes,
    root: x509.Certificate,
    at: datetime | None = None,
    freshness: timedelta | None = None,
) -> tuple[AdESSubIndic, datetime | None]:
    reader = PdfFileReader(BytesIO(pdf))
    approval = next(s for s in reader.embedded_signatures if s.sig_object_type == "/Sig")
    timing = (
        ValidationTimingInfo(
            validation_time=at, best_signature_time=at, point_in_time_validation=True
        )
        if at
        else None
    )
    result = asyncio.run(ades.ades_lta_validation(approval, lta_spec(root, freshness), timing))
    return result.ades_subindic, result.best_signature_time


def pdfsig(pdf_path: Path, root: x509.Certificate, nss_dir: Path, *, ocsp: bool = False) -> str:
    """Run poppler's pdfsig with an NSS database that trusts ``root``."""
    if not (nss_dir / "cert9.db").exists():
        nss_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["certutil", "-N", "-d", f"sql:{nss_dir}", "--empty-password"],
            check=True,
            capture_output=True,
        )
        root_file = nss_dir / "root.crt"
        root_file.write_bytes(root.public_bytes(serialization.Encoding.PEM))
        subprocess.run(
            [
                "certutil",
                "-A",
                "-d",
                f"sql:{nss_dir}",
                "-n",
                "agency-root",
                "-t",
                "CT,C,C",
                "-i",
                str(root_file),
            ],
            check=True,
            capture_output=True,
        )
    args = ["pdfsig", "-nssdir", f"sql:{nss_dir}"]
    if not ocsp:
        args.append("-no-ocsp")
    result = subprocess.run([*args, str(pdf_path)], capture_output=True, text=True, timeout=60)
    return result.stdout
