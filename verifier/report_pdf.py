"""The validation report as a PDF to print and file, with its signed JSON attached.

Both languages on one page, English then Thai, because the report travels:
the importer's officer and the Thai exporter read the same sheet. Dates are
printed in UTC and as the Bangkok day with its Buddhist Era year. The PDF is
a rendering; what the agency vouches for is the attached JSON and its COSE
signature (``verifier.validation_report``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import fontpkg_sarabun
from fpdf import FPDF

FONTS = fontpkg_sarabun.ROOT / "files"
BANGKOK = ZoneInfo("Asia/Bangkok")
VERDICTS = {
    "valid": ("Valid: genuine and current", "ใช้ได้: เป็นฉบับจริงและยังใช้ได้"),
    "not_current": ("Genuine, not current", "ฉบับจริง แต่ไม่เป็นปัจจุบัน"),
    "not_authentic": ("Not authentic", "ไม่ใช่ฉบับจริง"),
    "unreadable": ("Unreadable", "อ่านไม่ได้"),
}
#: Words, not symbols: Sarabun has no check marks, and words survive a photocopy.
OUTCOMES = {
    "passed": "passed / ผ่าน",
    "failed": "failed / ไม่ผ่าน",
    "indeterminate": "could not be checked / ตรวจสอบไม่ได้",
}


def _when(text: str) -> str:
    at = datetime.fromisoformat(text)
    local = at.astimezone(BANGKOK)
    return (
        f"{at:%Y-%m-%d %H:%M} UTC · {local:%d/%m}/{local.year + 543} "
        f"{local:%H:%M} (เวลากรุงเทพฯ, พ.ศ.)"
    )


class _Sheet(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.add_font("Sarabun", "", str(FONTS / "Sarabun-Regular.ttf"))
        self.add_font("Sarabun", "B", str(FONTS / "Sarabun-Bold.ttf"))
        self.set_text_shaping(True)
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, 16)
        self.add_page()

    def heading(self, en: str, th: str) -> None:
        self.ln(2)
        self.set_font("Sarabun", "B", 12)
        self.multi_cell(0, 6, f"{en} / {th}", new_x="LMARGIN", new_y="NEXT")

    def fact(self, en: str, th: str, value: str) -> None:
        self.set_font("Sarabun", "B", 9)
        self.multi_cell(0, 4.6, f"{en} / {th}", new_x="LMARGIN", new_y="NEXT")
        self.set_font("Sarabun", "", 10)
        self.multi_cell(0, 5, value or "–", new_x="LMARGIN", new_y="NEXT")


def render_report_pdf(
    report_file: bytes, thai: Callable[[dict[str, Any]], str] | None = None
) -> bytes:
    """Print a report file (``sign_report``'s output) and attach it, unchanged.

    ``thai`` gives each check's outcome as a Thai sentence (the registry passes
    its catalogue's); without it, as in the offline command line, the sheet
    prints the verifier's English detail alone.
    """
    found: dict[str, Any] = json.loads(report_file)
    document, signature = found["document"], found["signature"]
    answer, report, register = document["answer"], document["report"], document["register"]
    sheet = _Sheet()
    sheet.set_title(f"Validation report: {document['file']['name']}")
    sheet.set_font("Sarabun", "B", 16)
    sheet.multi_cell(0, 8, "Validation report / รายงานผลการตรวจสอบ", new_x="LMARGIN", new_y="NEXT")
    sheet.set_font("Sarabun", "", 10)
    sheet.multi_cell(0, 5, document["issuer"], new_x="LMARGIN", new_y="NEXT")
    en, th = VERDICTS.get(answer["verdict"], (answer["verdict"], answer["verdict"]))
    sheet.heading("Answer", "ผลการตรวจสอบ")
    sheet.set_font("Sarabun", "B", 13)
    sheet.multi_cell(0, 7, f"{en} / {th}", new_x="LMARGIN", new_y="NEXT")
    sheet.fact(
        "Document, status",
        "เอกสาร สถานะ",
        f"{answer['document']} · {answer['status']} · "
        + " · ".join(f"{k}: {v}" for k, v in answer["headline"].items()),
    )
    sheet.fact("File", "ไฟล์", f"{document['file']['name']}\nSHA-256 {document['file']['sha256']}")
    sheet.fact("Checked at", "ตรวจสอบเมื่อ", _when(document["checked_at"]))
    sheet.fact("Register", "ทะเบียน", document.get("registry") or "–")
    if register:
        acc, cert, cab = register["accreditation"], register["certificate"], register["cab"]
        sheet.heading("What the register says", "ข้อมูลในทะเบียน")
        sheet.fact("Accredited body", "หน่วยงานที่ได้รับการรับรอง", f"{cab['name_en']}\n{cab['name_th']}")
        sheet.fact(
            "Accreditation",
            "การรับรอง",
            f"{acc['number']} · {acc['standard']} · {acc['valid_from']} – {acc['valid_until']}",
        )
        sheet.fact(
            "Certificate",
            "ใบรับรอง",
            f"{cert['number']} · {register['status']}"
            + (f" · log index {cert['log_index']}" if cert.get("log_index") is not None else ""),
        )
        for item in register.get("suspended_items") or []:
            sheet.fact(
                "Suspended item",
                "รายการที่พักใช้",
                f"{item['product_en']} · {item['parameter_en']} · {item['method']} "
                f"({item['since']} – {item['until'] or 'until lifted / จนกว่าจะยกเลิก'})",
            )
    sheet.heading("Every check", "ผลการตรวจทุกข้อ")
    for check in report["checks"]:
        sheet.set_font("Sarabun", "B", 9)
        outcome = OUTCOMES.get(check["outcome"], check["outcome"])
        sheet.multi_cell(
            0, 4.6, f"{check['name']}: {outcome} ({check['code']})", new_x="LMARGIN", new_y="NEXT"
        )
        sheet.set_font("Sarabun", "", 9)
        sheet.multi_cell(0, 4.6, check["detail"], new_x="LMARGIN", new_y="NEXT")
        if thai is not None:
            sheet.multi_cell(0, 4.6, thai(check), new_x="LMARGIN", new_y="NEXT")
    sheet.heading("Signature", "ลายมือชื่อ")
    if "cose_sign1" in signature:
        text = (
            f"Signed by the agency (COSE_Sign1, {signature['alg']}, key {signature['kid']}, "
            f"published at {signature['keys']}). The signed JSON is attached to this PDF.\n"
            "หน่วยงานลงนามในรายงานนี้ ไฟล์ JSON ที่ลงนามแนบอยู่ใน PDF นี้"
        )
    else:
        text = (
            "Unsigned: made by a verifier without the agency's key. "
            "Only the agency can vouch for a report.\n"
            "ไม่ได้ลงนาม: จัดทำโดยโปรแกรมตรวจสอบที่ไม่มีกุญแจของหน่วยงาน"
        )
    sheet.set_font("Sarabun", "", 9)
    sheet.multi_cell(0, 4.6, text, new_x="LMARGIN", new_y="NEXT")
    sheet.embed_file(
        bytes=report_file,
        basename="validation-report.json",
        mime_type="application/json",
        desc="The validation report, as signed",
    )
    return bytes(sheet.output())
