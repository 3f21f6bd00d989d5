"""Accreditation programmes, the standard each one assesses against, and numbering.

The number format is configurable because agencies differ: the default gives
``Testing-0123``, the form used by the Thai agency.
"""

from __future__ import annotations

from enum import StrEnum


class Programme(StrEnum):
    TESTING = "testing"
    CALIBRATION = "calibration"
    MEDICAL = "medical"
    INSPECTION = "inspection"
    MANAGEMENT_SYSTEMS = "management_systems"
    PRODUCT_CERTIFICATION = "product_certification"
    PERSONS_CERTIFICATION = "persons_certification"
    PROFICIENCY_TESTING = "proficiency_testing"
    REFERENCE_MATERIALS = "reference_materials"

    @property
    def standard(self) -> str:
        """The current edition of the standard this programme assesses against."""
        return STANDARDS[self]

    @property
    def number_prefix(self) -> str:
        return NUMBER_PREFIXES[self]


STANDARDS: dict[Programme, str] = {
    Programme.TESTING: "ISO/IEC 17025:2017",
    Programme.CALIBRATION: "ISO/IEC 17025:2017",
    Programme.MEDICAL: "ISO 15189:2022",
    Programme.INSPECTION: "ISO/IEC 17020:2012",
    Programme.MANAGEMENT_SYSTEMS: "ISO/IEC 17021-1:2015",
    Programme.PRODUCT_CERTIFICATION: "ISO/IEC 17065:2012",
    Programme.PERSONS_CERTIFICATION: "ISO/IEC 17024:2012",
    Programme.PROFICIENCY_TESTING: "ISO/IEC 17043:2023",
    Programme.REFERENCE_MATERIALS: "ISO 17034:2016",
}

NUMBER_PREFIXES: dict[Programme, str] = {
    Programme.TESTING: "Testing",
    Programme.CALIBRATION: "Calibration",
    Programme.MEDICAL: "Medical",
    Programme.INSPECTION: "Inspection",
    Programme.MANAGEMENT_SYSTEMS: "Certification-MS",
    Programme.PRODUCT_CERTIFICATION: "Certification-P",
    Programme.PERSONS_CERTIFICATION: "Certification-PS",
    Programme.PROFICIENCY_TESTING: "PTP",
    Programme.REFERENCE_MATERIALS: "RMP",
}

#: ``str.format`` pattern for accreditation numbers; ``prefix`` and ``seq`` are given.
DEFAULT_NUMBER_FORMAT = "{prefix}-{seq:04d}"


def accreditation_number(
    programme: Programme, seq: int, number_format: str = DEFAULT_NUMBER_FORMAT
) -> str:
    return number_format.format(prefix=programme.number_prefix, seq=seq)


def certificate_number(accreditation_no: str, revision: int) -> str:
    """Certificate (document) numbers name their revision: ``Testing-0123/R3``."""
    return f"{accreditation_no}/R{revision}"
