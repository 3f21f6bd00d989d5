"""The accreditation certificate as a PDF: page 1, then the scope annex.

Drawn with fpdf2, text shaping on (harfbuzz), in Sarabun (``fontpkg-sarabun``),
embedded and subset. Wording and geometry come from
``templates/certificate/layout.toml``; this module only lays them out. Lines
are broken by ``typesetting.wrap`` and drawn with /ActualText, so Thai comes
back out of ``pdftotext`` exactly as it went in.

The PDF is tagged (``tagging``): every line is marked content of a structure
element (H1, P, Table > TR > TH/TD, Figure) in reading order, each with its
language, and page furniture (seal, rules, footer) is an artifact.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Any, ClassVar
from xml.sax.saxutils import escape

import fontpkg_sarabun
import qrcode
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import PDFResourceType
from fpdf.fonts import TTFFont
from fpdf.syntax import PDFString

from ...dates import format_date_be
from ...register.programmes import Programme
from .qr import best_mask
from .tagging import Element, Tagger, language_runs
from .typesetting import wrap

#: ``templates/`` sits at the top of the checkout; ``registry/templates`` links to
#: it, so that a wheel carries it inside the package.
LAYOUT_FILE = files("registry") / "templates" / "certificate" / "layout.toml"
FONTS = fontpkg_sarabun.ROOT / "files"
LINE = (
    0.53  # line height in mm per point of font size: 1.5 x (1 pt = 0.3528 mm), room for Thai marks
)


class MissingGlyphs(ValueError):
    """Text that the certificate font cannot draw; refused before anything is signed."""


@dataclass(frozen=True)
class ScopeLine:
    site_name_en: str
    site_name_th: str
    site_address_en: str
    site_address_th: str
    field_en: str
    field_th: str
    product_en: str
    product_th: str
    parameter_en: str
    parameter_th: str
    method: str
    range_text: str | None = None
    cmc_text: str | None = None


@dataclass(frozen=True)
class CertificateContent:
    agency_name_th: str
    agency_name_en: str
    cab_name_th: str
    cab_name_en: str
    address_th: str
    address_en: str
    accreditation_number: str
    programme: Programme
    standard: str
    certificate_number: str
    revision: int
    first_granted: date
    issued_on: date
    valid_until: date
    qr_url: str
    registry_url: str
    scope: Sequence[ScopeLine] = field(default_factory=tuple)

    def texts(self) -> Iterable[str]:
        """Every string that will be drawn, for the glyph check."""
        yield from (
            self.agency_name_th,
            self.agency_name_en,
            self.cab_name_th,
            self.cab_name_en,
            self.address_th,
            self.address_en,
            self.accreditation_number,
            self.standard,
            self.certificate_number,
            self.registry_url,
        )
        for line in self.scope:
            yield from (v for v in vars(line).values() if v)


@cache
def layout() -> dict[str, Any]:
    return tomllib.loads(LAYOUT_FILE.read_text(encoding="utf-8"))


@cache
def _cmap(font_file: str) -> frozenset[int]:
    font = TTFont(str(FONTS / font_file), lazy=True)
    return frozenset(font.getBestCmap())


def check_glyphs(content: CertificateContent) -> None:
    """Refuse text with characters the font lacks (they would print as boxes)."""
    page = layout()["page"]
    available = _cmap(page["font_regular"]) & _cmap(page["font_bold"])
    missing = sorted(
        {
            ch
            for text in content.texts()
            for ch in text
            if ord(ch) not in available and not ch.isspace()
        }
    )
    if missing:
        shown = ", ".join(f"'{ch}' (U+{ord(ch):04X})" for ch in missing[:10])
        raise MissingGlyphs(f"the certificate font cannot draw these characters: {shown}")


class CertificateDocument(FPDF):
    def __init__(self, content: CertificateContent) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.content = content
        self.spec = layout()
        page = self.spec["page"]
        self.margin = float(page["margin"])
        self.set_margins(self.margin, self.margin, self.margin)
        self.set_auto_page_break(False)
        self.add_font("Sarabun", "", str(FONTS / page["font_regular"]))
        self.add_font("Sarabun", "B", str(FONTS / page["font_bold"]))
        # Subsetting keeps outlines as they are, so their bounding boxes are
        # already right; recomputing them made fontTools decode and re-encode
        # every glyph on output (about half the rendering time).
        for font in self.fonts.values():
            font.ttfont.recalcBBoxes = False
        self.set_text_shaping(True, direction="ltr")
        self.alias_nb_pages("{nb}")
        self._runs: dict[tuple[str, float, str], tuple[list[Any], float]] = {}
        self.columns: list[list[Any]] = []
        self.struct_builder = self.tags = Tagger()
        self._open: list[Element] = [self.tags.document]
        self._artifact = 0

    # -- structure ------------------------------------------------------------

    @contextmanager
    def tag(
        self,
        kind: str,
        *,
        lang: str | None = None,
        alt: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> Iterator[Element]:
        """A structure element around what is drawn inside; nested in the open one.

        Inside an artifact nothing is tagged: the open element is yielded as it is.
        """
        parent = self._open[-1]
        if self._artifact:
            yield parent
            return
        element = parent.add(
            Element(
                kind,
                parent,
                lang=lang,
                page=self.pages[self.page],
                page_number=self.page,
                alt=alt,
                bbox=bbox,
            )
        )
        self._open.append(element)
        try:
            yield element
        finally:
            self._open.pop()

    @contextmanager
    def artifact(self, kind: str = "Layout") -> Iterator[None]:
        """Page furniture that a reader skips: not part of the structure tree."""
        self._out(f"/Artifact <</Type /{kind}>> BDC")
        self._artifact += 1
        try:
            yield
        finally:
            self._artifact -= 1
            self._out("EMC")

    def _owner(self, lang: str) -> Element:
        """The element a run in ``lang`` on this page belongs to.

        The open element takes the language of its first run; a run in another
        language (the Thai line under an English one in a cell) becomes a Span
        of its own, as does content that continues on another page.
        """
        element = self._open[-1]
        if element.lang is None and not element.k:
            element.lang = PDFString(lang)
        if element.lang == lang and element.page_number() == self.page:
            return element
        return element.add(
            Element("Span", element, lang=lang, page=self.pages[self.page], page_number=self.page)
        )

    def _marked(self, text: str, lang: str) -> str:
        """The BDC operator opening one run: its MCID and /ActualText, or an artifact span."""
        hex_text = ("FEFF" + text.encode("utf-16-be").hex()).upper()
        if self._artifact:
            return f"/Span <</ActualText <{hex_text}>>> BDC"
        owner = self._owner(lang)
        mcid = self.tags.mark(owner, self.page)
        self.pages[self.page].struct_parents = self.tags.struct_parents(self.page)
        # The tag stays /Span whatever the element: poppler honours /ActualText on /Span only.
        return f"/Span <</MCID {mcid} /ActualText <{hex_text}>>> BDC"

    # -- text primitives -----------------------------------------------------

    #: Widths and line breaks depend only on font, size and text: shared by documents.
    _widths: ClassVar[dict[tuple[str, float, str], float]] = {}
    _wraps: ClassVar[dict[tuple[str, float, str, float], list[str]]] = {}

    def measure(self, text: str) -> float:
        """Width of ``text`` in mm at the current font, as shaped by harfbuzz."""
        key = (self.font_style, self.font_size_pt, text)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = self._run(text)[1]
        return width

    def lines(self, text: str, width: float) -> list[str]:
        key = (self.font_style, self.font_size_pt, text, width)
        found = self._wraps.get(key)
        if found is None:
            found = self._wraps[key] = wrap(text, width, self.measure)
        return found

    def _run(self, text: str) -> tuple[list[tuple[str, float, float, float, bool]], float]:
        """The shaped glyphs of ``text`` (encoded glyph, x/y offset, advance, reposition).

        fpdf2's ``cell`` shapes through its bidi and fragment machinery, about
        half a millisecond a line; scope annexes draw thousands of lines, most
        of them repeated. So lines are shaped once per document, with the same
        harfbuzz call fpdf2 uses (which also records the glyphs for subsetting),
        and drawn by ``draw_line``.
        """
        key = (self.font_style, self.font_size_pt, text)
        run = self._runs.get(key)
        if run is None:
            font = self.current_font
            assert isinstance(font, TTFFont)
            unit = font.scale * self.font_size_pt / 1000 / self.k
            glyphs = []
            width = 0.0
            for info in font.shape_text(text, self.font_size_pt, self.text_shaping):
                if info["mapped_char"] is None:
                    continue
                advance = info["x_advance"] * unit
                glyphs.append(
                    (
                        font.escape_text(chr(info["mapped_char"])),
                        info["x_offset"] * unit,
                        info["y_offset"] * unit,
                        advance,
                        bool(info["force_positioning"]),
                    )
                )
                width += advance
            run = self._runs[key] = (glyphs, width)
        return run

    def draw_line(self, text: str, x: float, y: float, width: float, align: str = "L") -> None:
        """One line in a box at (x, y), with /ActualText so extraction returns ``text``.

        A bilingual line ("ขอรับรองว่า / This is to certify that") is drawn as
        one run per language, each its own marked content with its language.
        The graphics state is saved outside the marked content: poppler reads
        the font size at EMC, and a Q before it left every line zero-sized,
        which made ``pdftotext`` read the page bottom up.
        """
        if not text:
            return
        runs = language_runs(text)
        shaped = [self._run(part) for part, _ in runs]
        text_width = shaped[0][1] if len(runs) == 1 else sum(w for _, w in shaped)
        font = self.current_font
        assert isinstance(font, TTFFont)
        k, h = self.k, self.h
        dx = (width - text_width) / 2 if align == "C" else self.c_margin
        pos_x = x + dx
        base = h - (y + 0.5 * self.line_height() + 0.3 * self.font_size)
        # Text paints with the fill colour, which table shading changes: always set it.
        ops = ["q", self.text_color.serialize().lower()]
        ops.append(f"BT /F{font.i} {self.font_size_pt:.2f} Tf {pos_x * k:.2f} {base * k:.2f} Td")
        for index, ((part, lang), (glyphs, _)) in enumerate(zip(runs, shaped, strict=True)):
            ops.append(self._marked(part, lang))
            if index:
                ops.append(f"1 0 0 1 {pos_x * k:.2f} {base * k:.2f} Tm")
            pending = ""
            for encoded, x_off, y_off, advance, reposition in glyphs:
                if x_off or y_off:
                    if pending:
                        ops.append(f"({pending}) Tj")
                        pending = ""
                    ops.append(f"1 0 0 1 {(pos_x + x_off) * k:.2f} {(base + y_off) * k:.2f} Tm")
                pending += encoded
                pos_x += advance
                if reposition:
                    ops.append(f"({pending}) Tj 1 0 0 1 {pos_x * k:.2f} {base * k:.2f} Tm")
                    pending = ""
            if pending:
                ops.append(f"({pending}) Tj")
            ops.append("EMC")
        ops.append("ET Q")
        self._resource_catalog.add(PDFResourceType.FONT, font.i, self.page)
        self._out(" ".join(ops))

    def line_height(self) -> float:
        return self.font_size_pt * LINE

    def paragraph(
        self,
        text: str,
        x: float,
        y: float,
        width: float,
        *,
        size: float,
        style: str = "",
        align: str = "L",
        tag: str | None = "P",
    ) -> float:
        """Wrapped text, one structure element (``tag``, or the open one if None).

        Returns the y below it.
        """
        self.set_font("Sarabun", style, size)
        with self.tag(tag) if tag else nullcontext():
            for line in self.lines(text, width):
                self.draw_line(line, x, y, width, align)
                y += self.line_height()
        return y

    # -- page furniture -------------------------------------------------------

    def footer(self) -> None:
        text = self.spec["text"]["footer"].format(
            number=self.content.certificate_number, page=self.page_no(), pages="{nb}"
        )
        self.set_text_shaping(False)
        self.set_font("Sarabun", "", 8)
        self.set_text_color(90, 90, 90)
        self.set_xy(self.margin, self.h - self.spec["page"]["footer"])
        with self.artifact("Pagination"):
            self.cell(self.w - 2 * self.margin, 4, text, align="C")
        self.set_text_color(0, 0, 0)
        self.set_text_shaping(True, direction="ltr")

    def emblem(self, cx: float, cy: float, r: float) -> None:
        """The agency seal, drawn from circles and a star: no image files."""
        with self.artifact():
            self._emblem(cx, cy, r)

    def _emblem(self, cx: float, cy: float, r: float) -> None:
        accent = self.spec["page"]["accent"]
        self.set_draw_color(*accent)
        self.set_fill_color(*accent)
        self.set_line_width(0.8)
        self.circle(cx, cy, r, style="D")
        self.set_line_width(0.3)
        self.circle(cx, cy, r * 0.82, style="D")
        points = []
        for i in range(16):
            radius = r * (0.62 if i % 2 == 0 else 0.28)
            angle = math.pi / 8 * i - math.pi / 2
            points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        self.polygon(points, style="F")
        self.set_fill_color(255, 255, 255)
        self.circle(cx, cy, r * 0.16, style="F")
        self.set_draw_color(0, 0, 0)
        self.set_fill_color(0, 0, 0)

    def qr(self, url: str, x: float, y: float, size: float) -> None:
        """The QR code as one filled path of merged runs (no per-module seams)."""
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        code.add_data(url, optimize=0)
        code.best_fit()
        code.mask_pattern = best_mask(code)  # the library's choice, computed faster
        code.make(fit=False)
        matrix = code.get_matrix()
        n = len(matrix)
        quiet = 4
        module = size / (n + 2 * quiet)
        ops = []
        for row, cells in enumerate(matrix):
            col = 0
            while col < n:
                if not cells[col]:
                    col += 1
                    continue
                start = col
                while col < n and cells[col]:
                    col += 1
                left = (x + (quiet + start) * module) * self.k
                top = (self.h - (y + (quiet + row) * module)) * self.k
                ops.append(
                    f"{left:.3f} {top - module * self.k:.3f} "
                    f"{(col - start) * module * self.k:.3f} {module * self.k:.3f} re"
                )
        top = self.h - y
        with self.tag(
            "Figure",
            lang="en",
            alt=f"QR code: scan it to check the current status of certificate "
            f"{self.content.certificate_number}",
            bbox=(x * self.k, (top - size) * self.k, (x + size) * self.k, top * self.k),
        ) as figure:
            mcid = self.tags.mark(figure, self.page)
            self.pages[self.page].struct_parents = self.tags.struct_parents(self.page)
            self._out(f"/Figure <</MCID {mcid}>> BDC q 0 g " + " ".join(ops) + " f Q EMC")

    # -- page 1 ---------------------------------------------------------------

    def first_page(self) -> None:
        c, t = self.content, self.spec["text"]
        self.add_page()
        width = self.w - 2 * self.margin
        x = self.margin
        self.emblem(self.w / 2, 30, 13)
        y = self.paragraph(c.agency_name_th, x, 46, width, size=15, style="B", align="C")
        y = self.paragraph(c.agency_name_en, x, y, width, size=12, style="B", align="C")
        with self.tag("H1"):
            y = self.paragraph(
                t["title_th"], x, y + 8, width, size=22, style="B", align="C", tag=None
            )
            y = self.paragraph(t["title_en"], x, y, width, size=16, align="C", tag=None)
        y = self.paragraph(
            t["certify_th"] + " / " + t["certify_en"], x, y + 6, width, size=11, align="C"
        )
        y = self.paragraph(c.cab_name_th, x, y + 2, width, size=18, style="B", align="C")
        y = self.paragraph(c.cab_name_en, x, y, width, size=14, style="B", align="C")
        y = self.paragraph(c.address_th, x + 15, y + 1, width - 30, size=10, align="C")
        y = self.paragraph(c.address_en, x + 15, y, width - 30, size=10, align="C")
        programme_th, programme_en = self.spec["programmes"][c.programme.value]
        y = self.paragraph(
            t["accredited_th"].format(programme=programme_th, standard=c.standard),
            x + 10,
            y + 6,
            width - 20,
            size=12,
            align="C",
        )
        y = self.paragraph(
            t["accredited_en"].format(programme=programme_en, standard=c.standard),
            x + 10,
            y,
            width - 20,
            size=12,
            align="C",
        )
        y = self.paragraph(
            t["scope_note_th"] + " / " + t["scope_note_en"],
            x + 10,
            y + 1,
            width - 20,
            size=10,
            align="C",
        )
        y = self.facts(y + 8)
        self.signatory_and_qr(max(y + 6, 205))

    def facts(self, y: float) -> float:
        c, t = self.content, self.spec["text"]
        rows = [
            (t["accreditation_no"], c.accreditation_number, c.accreditation_number),
            (t["certificate_no"], c.certificate_number, c.certificate_number),
            (t["revision"], str(c.revision), str(c.revision)),
            (
                t["first_granted"],
                format_date_be(c.first_granted, "th"),
                format_date_be(c.first_granted, "en"),
            ),
            (t["issued"], format_date_be(c.issued_on, "th"), format_date_be(c.issued_on, "en")),
            (
                t["valid_until"],
                format_date_be(c.valid_until, "th"),
                format_date_be(c.valid_until, "en"),
            ),
        ]
        x = self.margin + 20
        label_w, value_w = 62, 58
        with self.tag("Table"):
            for (label_th, label_en), value_th, value_en in rows:
                with self.tag("TR"):
                    self.set_font("Sarabun", "", 10)
                    with self.tag("TH"):
                        self.draw_line(f"{label_th} / {label_en}", x, y, label_w)
                    self.set_font("Sarabun", "B", 10)
                    with self.tag("TD"):
                        self.draw_line(value_th, x + label_w, y, value_w)
                    if value_en != value_th:
                        self.set_font("Sarabun", "", 10)
                        with self.tag("TD"):
                            self.draw_line(value_en, x + label_w + value_w, y, 40)
                y += 6
        return y

    def signatory_and_qr(self, y: float) -> None:
        c, t, s = self.content, self.spec["text"], self.spec["signatory"]
        x = self.margin
        self.paragraph(t["signed_by_th"] + " / " + t["signed_by_en"], x, y + 8, 90, size=8)
        self.set_draw_color(0, 0, 0)
        self.set_line_width(0.2)
        with self.artifact():
            self.line(x, y + 14, x + 80, y + 14)
        yy = self.paragraph(s["name_th"], x, y + 16, 90, size=11, style="B")
        yy = self.paragraph(s["name_en"], x, yy, 90, size=10)
        yy = self.paragraph(s["title_th"] + " / " + s["title_en"], x, yy, 90, size=10)
        self.paragraph(c.agency_name_en, x, yy, 90, size=9)
        size = 44.0
        qx = self.w - self.margin - size
        self.qr(c.qr_url, qx, y, size)
        note_x, note_w = qx - 30, size + 30
        yy = self.paragraph(
            t["qr_en"].format(url=c.registry_url), note_x, y + size + 1, note_w, size=8, align="C"
        )
        self.paragraph(t["qr_th"].format(url=c.registry_url), note_x, yy, note_w, size=8, align="C")

    # -- annex ------------------------------------------------------------------

    def annex(self) -> None:
        c = self.content
        calibration = c.programme is Programme.CALIBRATION
        self.columns = self.spec["columns"]["calibration" if calibration else "default"]
        self.add_page()
        self.annex_heading()
        with self.tag("Table"):
            self.table_header()
            self.scope_rows()

    def scope_rows(self) -> None:
        """Site by site, in the order the issuer gave them (head office first), then by field."""
        sites: dict[tuple[str, str], int] = {}
        for s in self.content.scope:
            sites.setdefault((s.site_name_en, s.site_address_en), len(sites))
        ordered = sorted(
            self.content.scope,
            key=lambda s: (sites[s.site_name_en, s.site_address_en], s.field_en),
        )
        site_key = field_key = None
        for number, line in enumerate(ordered, start=1):
            if (line.site_name_en, line.site_address_en) != site_key:
                site_key = (line.site_name_en, line.site_address_en)
                field_key = None
                t = self.spec["text"]["site"]
                self.group_row(
                    f"{t[1]}: {line.site_name_en}, {line.site_address_en}\n"
                    f"{t[0]}: {line.site_name_th} {line.site_address_th}",
                    shade=225,
                    bold=True,
                )
            if line.field_en != field_key:
                field_key = line.field_en
                self.group_row(f"{line.field_en} · {line.field_th}", shade=242, bold=False)
            self.scope_row(number, line)

    def annex_heading(self) -> None:
        t = self.spec["text"]
        width = self.w - 2 * self.margin
        y = self.paragraph(
            f"{t['annex_th']} / {t['annex_en']}",
            self.margin,
            self.margin,
            width,
            size=13,
            style="B",
            tag="H2",
        )
        y = self.paragraph(
            f"{self.content.cab_name_en} · {self.content.accreditation_number} · "
            f"{self.content.certificate_number}",
            self.margin,
            y,
            width,
            size=9,
        )
        self.set_y(y + 2)

    def table_header(self) -> None:
        cells = [f"{en}\n{th}" if th != en else en for _, th, en, _ in self.columns]
        self.row(cells, bold=True, shade=(18, 62, 124), text_color=255, header=True)

    def ensure_room(self, height: float) -> None:
        """A new annex page if ``height`` does not fit; its heading and header row repeat.

        The repeats are pagination artifacts: the structure has the heading and
        the header row once, and one table running across the pages.
        """
        if self.get_y() + height > self.h - self.spec["page"]["footer"] - 4:
            self.add_page()
            with self.artifact("Pagination"):
                self.annex_heading()
                self.table_header()

    def group_row(self, text: str, *, shade: int, bold: bool) -> None:
        self.row(
            [text],
            bold=bold,
            shade=(shade, shade, shade),
            widths=[sum(col[3] for col in self.columns)],
            keep_with_next=12,
        )

    def scope_row(self, number: int, line: ScopeLine) -> None:
        values = {
            "no": str(number),
            "product": f"{line.product_en}\n{line.product_th}",
            "parameter": f"{line.parameter_en}\n{line.parameter_th}",
            "method": line.method,
            "range": line.range_text or "",
            "cmc": line.cmc_text or "",
        }
        self.row([values[key] for key, *_ in self.columns])

    def row(
        self,
        cells: Sequence[str],
        *,
        bold: bool = False,
        shade: tuple[int, int, int] | None = None,
        text_color: int = 0,
        widths: Sequence[float] | None = None,
        keep_with_next: float = 0,
        header: bool = False,
    ) -> None:
        """One table row (TR of TH or TD cells); cell borders and shading are artifacts."""
        widths = widths or [col[3] for col in self.columns]
        size, pad = 8.5, 1.2
        style = "B" if bold else ""
        self.set_font("Sarabun", style, size)
        lines = [self.lines(text, w - 2 * pad) for text, w in zip(cells, widths, strict=True)]
        height = max(len(ls) for ls in lines) * self.line_height() + 2 * pad
        self.ensure_room(height + keep_with_next)
        self.set_font("Sarabun", style, size)  # a repeated header row may have changed it
        x, y = self.margin, self.get_y()
        self.set_draw_color(170, 170, 170)
        self.set_line_width(0.15)
        if shade:
            self.set_fill_color(*shade)
        with self.artifact():
            for w in widths:
                self.rect(x, y, w, height, style="DF" if shade else "D")
                x += w
        self.set_text_color(text_color, text_color, text_color)
        x = self.margin
        with self.tag("TR"):
            for cell_lines, w in zip(lines, widths, strict=True):
                with self.tag("TH" if header else "TD"):
                    yy = y + pad
                    for text in cell_lines:
                        self.draw_line(text, x + pad, yy, w - 2 * pad)
                        yy += self.line_height()
                x += w
        self.set_text_color(0, 0, 0)
        self.set_xy(self.margin, y + height)


def render(content: CertificateContent, *, metadata: dict[str, str] | None = None) -> bytes:
    """The unsigned certificate PDF. Raises ``MissingGlyphs`` before drawing anything."""
    check_glyphs(content)
    doc = CertificateDocument(content)
    c = content
    doc.set_title(f"Certificate of Accreditation {c.certificate_number}")
    doc.set_subject(
        f"Accreditation {c.accreditation_number}, certificate {c.certificate_number}, "
        f"revision {c.revision}; {c.cab_name_en}"
    )
    doc.set_author(c.agency_name_en)
    doc.set_creator("accredit")
    doc.set_keywords(
        f"certificate:{c.certificate_number} accreditation:{c.accreditation_number} "
        f"revision:{c.revision}"
    )
    doc.set_lang("th-TH")
    doc.set_xmp_metadata(_xmp(c, metadata or {}))
    doc.first_page()
    if c.scope:
        doc.annex()
    return bytes(doc.output())


def _xmp(c: CertificateContent, extra: dict[str, str]) -> str:
    fields = {
        "certificateNumber": c.certificate_number,
        "accreditationNumber": c.accreditation_number,
        "revision": str(c.revision),
        "qrPayload": c.qr_url,
        **extra,
    }
    title = f"Certificate of Accreditation {c.certificate_number}"
    props = "\n".join(f"   <accredit:{k}>{escape(v)}</accredit:{k}>" for k, v in fields.items())
    return f"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
      xmlns:accredit="urn:accredit:certificate:1">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>
{props}
  </rdf:Description>
 </rdf:RDF>"""
