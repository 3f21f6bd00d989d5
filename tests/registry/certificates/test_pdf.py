"""The certificate layout: page counts, numbering, wrapping, size, glyphs."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from registry.certificates.pdf.document import CertificateContent, MissingGlyphs, ScopeLine, render
from registry.certificates.pdf.typesetting import clusters, is_combining, words, wrap
from registry.demo.generator import load_catalogue
from registry.register.programmes import Programme

CATALOGUE = load_catalogue()
SITES = [
    (
        "Head office",
        "สำนักงานใหญ่",
        "1 Rama IV Road, Bangkok 10110, Thailand",
        "เลขที่ 1 ถนนพระรามที่ 4 จังหวัดกรุงเทพมหานคร 10110",
    ),
    (
        "Branch Chon Buri",
        "สาขา ชลบุรี",
        "99/9 Sukhumvit Road, Chon Buri 20000, Thailand",
        "เลขที่ 99/9 ถนนสุขุมวิท จังหวัดชลบุรี 20000",
    ),
]


def scope(n: int, programme: Programme = Programme.TESTING) -> list[ScopeLine]:
    pool = CATALOGUE[programme]
    out = []
    for i in range(n):
        line = pool[i % len(pool)]
        site = SITES[i % 2]
        calibration = programme is Programme.CALIBRATION
        out.append(
            ScopeLine(
                *site,
                line.field_en,
                line.field_th,
                line.product_en,
                line.product_th,
                line.parameter_en,
                line.parameter_th,
                line.method,
                "1 mg to 20 kg" if calibration else None,
                "0.003 mg to 30 mg" if calibration else None,
            )
        )
    return out


def content(n: int, programme: Programme = Programme.TESTING, **changes) -> CertificateContent:
    base = CertificateContent(
        agency_name_th="สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม",
        agency_name_en="Thai Industrial Standards Institute",
        cab_name_th="บริษัท สยามเจริญ ห้องปฏิบัติการวิเคราะห์ จำกัด",
        cab_name_en="Siam Charoen Analytical Laboratory Co., Ltd.",
        address_th="เลขที่ 1 ถนนพระรามที่ 4 จังหวัดกรุงเทพมหานคร 10110",
        address_en="1 Rama IV Road, Bangkok 10110, Thailand",
        accreditation_number="Testing-0123",
        programme=programme,
        standard=programme.standard,
        certificate_number="Testing-0123/R3",
        revision=3,
        first_granted=date(2019, 1, 15),
        issued_on=date(2026, 11, 25),
        valid_until=date(2029, 1, 14),
        qr_url="HTTPS://REGISTRY.EXAMPLE.GO.TH/V/" + "ABCDEFGH234567" * 28,
        registry_url="registry.example.go.th",
        scope=scope(n, programme),
    )
    return replace(base, **changes)


def pages_text(pdf: bytes, tmp_path: Path, *args: str) -> list[str]:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    text = subprocess.run(
        ["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


@pytest.mark.parametrize(("items", "expected_pages"), [(1, 2), (40, 4), (2000, None)])
def test_structure_and_page_numbering(items, expected_pages, tmp_path):
    pages = pages_text(render(content(items)), tmp_path)
    if expected_pages:
        assert len(pages) == expected_pages
    total = len(pages)
    for number, page in enumerate(pages, start=1):
        assert re.search(
            rf"Certificate No\. Testing-0123/R3\s+·\s+Page {number} of {total}\b", page
        )
    for page in pages[1:]:
        assert "Product or material" in page, "the header row repeats on every annex page"
    assert f"\n{items}\n" in pages[-1] or pages[-1].count(f"{items}") >= 1
    if items == 2000:
        assert total > 40


def test_calibration_scopes_show_range_and_cmc(tmp_path):
    pages = pages_text(render(content(12, Programme.CALIBRATION)), tmp_path)
    annex = "\n".join(pages[1:])
    assert "Range" in annex and "CMC" in annex
    assert "0.003 mg to 30 mg" in annex


def test_long_cells_wrap_and_are_never_cut_off(tmp_path):
    long_th = "ผลิตภัณฑ์ยางธรรมชาติสำหรับใช้ในทางการแพทย์และอุตสาหกรรมอาหาร" * 3
    long_en = "Natural rubber products for medical and food industry use " * 4
    lines = scope(3)
    lines[0] = replace(lines[0], product_en=long_en.strip(), product_th=long_th)
    text = "\n".join(pages_text(render(content(3, scope=lines)), tmp_path, "-raw"))
    # Other columns' lines interleave with the cell's; keep the cell's own, in order.
    th_lines = [ln for ln in text.splitlines() if len(ln.strip()) > 12 and ln.strip() in long_th]
    # pdftotext puts the row number on the first line of the row.
    candidates = [re.sub(r"^\d+ ", "", ln.strip()) for ln in text.splitlines()]
    en_lines = [ln for ln in candidates if len(ln) > 12 and ln in long_en]
    assert len(th_lines) > 2 and len(en_lines) > 2, "the cell wrapped onto several lines"
    assert "".join(ln.strip() for ln in th_lines) == long_th
    assert " ".join(en_lines) == long_en.strip()


def test_wrap_breaks_thai_only_between_words():
    measure = len  # one unit per character is enough to exercise the rules
    text = "ห้องปฏิบัติการทดสอบผลิตภัณฑ์อุตสาหกรรมปลาทูน่ากระป๋องน้ำผลไม้"
    lines = wrap(text, 14, measure)
    assert "".join(lines) == text
    tokens = set(words(text))
    for line in lines:
        assert not is_combining(line[0])
        assert "".join(words(line)) == line
        assert all(w in tokens for w in words(line)) or len(line) >= 14


def test_an_overlong_word_splits_between_clusters():
    word = "ปลาทูน่ากระป๋อง"
    lines = wrap(word, 3, len)
    assert "".join(lines) == word
    assert all(not is_combining(line[0]) for line in lines)
    assert clusters("น้ำ") == ["น้ำ"]


def test_size_with_a_fifty_item_annex(shared_signer):
    from keys.signing import sign_pdf

    signed = sign_pdf(render(content(50)), shared_signer)
    assert len(signed) <= 200 * 1024, f"{len(signed) / 1024:.0f} KB"


@pytest.mark.parametrize("name", ["Siam 😀 Lab", "北京检测实验室", "Лаборатория"])
def test_characters_the_font_lacks_are_refused_before_drawing(name):
    with pytest.raises(MissingGlyphs, match="cannot draw"):
        render(content(1, cab_name_en=name))


def test_every_demo_and_catalogue_string_has_glyphs():
    from registry.certificates.pdf.document import layout
    from registry.demo.generator import BRANDS, CALIBRATION, KINDS, PROVINCES, ROADS, SITE_NAMES

    strings = [
        s
        for line in (x for pool in CATALOGUE.values() for x in pool)
        for s in vars(line).values()
        if isinstance(s, str)
    ]
    strings += [s for pair in CALIBRATION.values() for s in pair]
    strings += [s for table in (BRANDS, PROVINCES, ROADS, SITE_NAMES) for row in table for s in row]
    strings += [s for kinds in KINDS.values() for pair in kinds for s in pair]
    spec = layout()
    strings += [v for v in spec["text"].values() if isinstance(v, str)]
    render(content(1, cab_name_en=" ".join(strings[:1]), address_en=" ".join(strings)))


@pytest.mark.parametrize(
    "payload",
    [
        "HTTPS://X.GO.TH/V/AB",
        "HTTP://127.0.0.1:5000/V/" + "Q2" * 90,
        "HTTPS://REGISTRY.EXAMPLE.GO.TH/V/" + "QRSTUV234567ABCD" * 20,
    ],
)
def test_mask_choice_matches_the_qrcode_library(payload):
    import qrcode
    from qrcode import util

    from registry.certificates.pdf.qr import best_mask, penalty

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(payload, optimize=0)
    code.best_fit()
    for mask in range(8):
        code.makeImpl(True, mask)
        assert penalty(code.modules) == util.lost_point(code.modules)
    assert best_mask(code) == code.best_mask_pattern()


# -- the text layer and the tags ----------------------------------------------------


def in_order(text: str, *parts: str) -> None:
    """Each of ``parts`` occurs in ``text``, each after the one before."""
    at = -1
    for part in parts:
        found = text.find(part, at + 1)
        assert found > at, f"{part!r} is missing or out of order in:\n{text}"
        at = found


def test_pdftotext_reads_the_certificate_top_to_bottom(tmp_path):
    pages = pages_text(render(content(40)), tmp_path)
    first = pages[0].strip()
    assert first.startswith("สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม"), "the agency comes first"
    assert first.endswith("Page 1 of 4"), "the footer comes last"
    in_order(
        first,
        "Thai Industrial Standards Institute",
        "ใบรับรองความสามารถ",
        "Certificate of Accreditation",
        "ขอรับรองว่า / This is to certify that",
        "บริษัท สยามเจริญ ห้องปฏิบัติการวิเคราะห์ จำกัด",
        "Siam Charoen Analytical Laboratory Co., Ltd.",
        "1 Rama IV Road, Bangkok 10110, Thailand",
        "is accredited as a testing laboratory",
        "หมายเลขการรับรอง / Accreditation No.",
        "Testing-0123",
        "ใช้ได้ถึง / Valid until",
        "January 14, 2029",
        "ลงนามด้วยลายมือชื่ออิเล็กทรอนิกส์ / Signed electronically",
        "นายสมชาย ใจดี",
        "Mr Somchai Jaidee",
        "Scan or visit registry.example.go.th",
        "Certificate No. Testing-0123/R3",
    )
    # The annex, in content order (-raw) and as laid out (-layout): heading, header
    # row, the rows by number, the footer. (The default mode reads a table's
    # columns as blocks, as poppler does for any table.)
    for mode in ("-raw", "-layout"):
        number = 0
        for page_no, page in enumerate(pages_text(render(content(40)), tmp_path, mode)[1:], 2):
            page = page.strip()
            assert page.startswith("เอกสารแนบ: ขอบข่ายการรับรอง / Annex: Scope of accreditation")
            assert page.endswith(f"Page {page_no} of 4")
            in_order(page, "Annex", "Product or material", "Method")
            if page_no == 2:
                in_order(page, "Method", "Site: Head office", "Chemical testing")
            rows = [int(m) for m in re.findall(r"^\s*(\d+) ", page, flags=re.MULTILINE)]
            assert rows == list(range(number + 1, number + 1 + len(rows))), (mode, rows)
            number += len(rows)
        assert number == 40, mode


def test_the_annex_lists_the_head_office_first(tmp_path):
    text = "".join(pages_text(render(content(6)), tmp_path, "-raw"))
    in_order(text, "Site: Head office", "Site: Branch Chon Buri")


def test_methods_are_written_in_the_latin_script():
    """The method column is not bilingual: 'TIS 685 Part 1-2562', not 'TIS 685 เล่ม 1-2562'."""
    methods = {line.method for pool in CATALOGUE.values() for line in pool}
    assert "TIS 685 Part 1-2562" in methods
    assert not [m for m in methods if re.search("[\u0e00-\u0e7f]", m)]


def structure(pdf: bytes):
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(BytesIO(pdf))


def walk(element, depth=0):
    """(element, depth) of every structure element below ``element``, in order."""
    kids = element.get("/K")
    if kids is None:
        return
    kids = kids if isinstance(kids, list) else [kids]
    for kid in kids:
        kid = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(kid, dict) and "/S" in kid:
            yield kid, depth
            yield from walk(kid, depth + 1)


def test_the_certificate_is_tagged_with_reading_order_and_languages(tmp_path):
    pdf = render(content(40))
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert re.search(r"^Tagged:\s+yes$", info.stdout, re.MULTILINE)

    reader = structure(pdf)
    root = reader.root
    assert root["/MarkInfo"]["/Marked"] is True or str(root["/MarkInfo"]["/Marked"]) == "True"
    assert str(root["/Lang"]).startswith("th")
    tree = root["/StructTreeRoot"]
    (document,) = [k.get_object() for k in tree["/K"]]
    assert document["/S"] == "/Document"
    elements = list(walk(document))
    kinds = [e["/S"] for e, depth in elements if depth == 0]
    assert kinds[:3] == ["/P", "/P", "/H1"], "agency names, then the title"
    assert {"/Table", "/Figure", "/H2"} <= set(kinds)
    cells = [e for e, _ in elements if e["/S"] in ("/TD", "/TH")]
    assert len(cells) > 40 * 4

    # Every element holding content says its language; both languages are there.
    languages = {
        str(e["/Lang"])
        for e, _ in elements
        if any(isinstance(k, int) for k in (e["/K"] if isinstance(e["/K"], list) else [e["/K"]]))
    }
    assert languages == {"th", "en"}
    for e, _ in elements:
        own = [k for k in e["/K"] if isinstance(k, int)] if isinstance(e["/K"], list) else []
        if own:
            assert "/Lang" in e, e
    h1 = next(e for e, _ in elements if e["/S"] == "/H1")
    assert str(h1["/Lang"]) == "th"
    (english_title,) = [k.get_object() for k in h1["/K"] if not isinstance(k, int)]
    assert english_title["/S"] == "/Span" and str(english_title["/Lang"]) == "en"

    # The ParentTree maps each page's MCIDs back to their elements.
    nums = tree["/ParentTree"]["/Nums"]
    parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    for page in reader.root["/Pages"]["/Kids"]:
        page = page.get_object()
        owners = parents[int(page["/StructParents"])]
        stream = page["/Contents"].data.decode("latin-1")
        mcids = [int(m) for m in re.findall(r"/MCID (\d+)", stream)]
        assert mcids == list(range(len(owners))), "MCIDs in drawing order, one owner each"
        assert "/Artifact <</Type /Pagination>> BDC" in stream, "the footer is an artifact"

    # And poppler reads the same tree, in reading order.
    tree_text = subprocess.run(
        ["pdfinfo", "-struct-text", str(path)], capture_output=True, text=True, check=True
    ).stdout
    in_order(tree_text, "Document", "H1", "ใบรับรองความสามารถ", "Certificate of Accreditation")
    in_order(tree_text, "Table", "TH", "Accreditation No.", "TD", "Testing-0123")
    in_order(tree_text, "H2", "Annex: Scope of accreditation", "Site: Head office")


def test_a_signed_tagged_certificate_still_validates(shared_signer, shared_pki, tmp_path):
    from keys.signing import sign_pdf
    from tests.keys.validation import pdfsig, validate_with_dss

    signed = sign_pdf(render(content(12)), shared_signer)
    assert validate_with_dss(signed, shared_pki.root).signature.bottom_line
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    output = pdfsig(path, shared_pki.root, tmp_path / "nss")
    approval = output.split("Signature #2")[0]
    assert "Signature is Valid." in approval and "Certificate is Trusted." in approval
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert re.search(r"^Tagged:\s+yes$", info.stdout, re.MULTILINE), "signing keeps the tags"
