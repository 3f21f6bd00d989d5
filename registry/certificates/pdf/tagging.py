"""The certificate's logical structure: a tagged PDF for screen readers and copy-paste.

fpdf2 builds a flat structure tree (Document > Figure) for image alternate
text only. The certificate needs a real hierarchy (Document > H1, P, Table >
TR > TH/TD), a language on every element (Thai and English sit side by side)
and marked content that ties each drawn line to its element. ``Tagger`` takes
the place of fpdf2's ``StructureTreeBuilder``, so fpdf2 still writes the
StructTreeRoot, the ParentTree and /MarkInfo itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fpdf.structure_tree import StructTreeRoot, StructureTreeBuilder
from fpdf.syntax import PDFArray, PDFObject, PDFString

#: Thai script, U+0E00 to U+0E7F: the text is Thai if it holds any of it.
THAI = re.compile("[\u0e00-\u0e7f]")
#: Where the certificate joins its Thai and English forms on one line.
SEPARATOR = re.compile(r"( / | · )")


def language(text: str) -> str:
    """``th`` for text with Thai script in it, otherwise ``en``."""
    return "th" if THAI.search(text) else "en"


def language_runs(text: str) -> list[tuple[str, str]]:
    """``text`` cut into (text, language) runs at the bilingual separators.

    "ขอรับรองว่า / This is to certify that" is two runs; a separator goes with
    the run after it, and neighbouring runs of one language are merged, so a
    line in one language stays one run.
    """
    pieces = SEPARATOR.split(text)
    runs: list[tuple[str, str]] = []
    pending = ""
    for i, piece in enumerate(pieces):
        if i % 2:  # a separator
            pending += piece
            continue
        if not piece:
            pending += piece
            continue
        lang = language(piece)
        if runs and runs[-1][1] == lang:
            runs[-1] = (runs[-1][0] + pending + piece, lang)
        else:
            runs.append((pending + piece, lang))
        pending = ""
    if pending:
        if runs:
            runs[-1] = (runs[-1][0] + pending, runs[-1][1])
        else:
            runs.append((pending, language(pending)))
    return runs


class Element(PDFObject):
    """One structure element (PDF 32000-1, 14.7.2); public attributes are its PDF keys."""

    def __init__(
        self,
        kind: str,
        parent: PDFObject,
        *,
        lang: str | None = None,
        page: PDFObject | None = None,
        page_number: int = 1,
        alt: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> None:
        super().__init__()
        self.type = "/StructElem"
        self.s = f"/{kind}"
        self.p = parent
        self.k = PDFArray()  # MCIDs (int) and child elements, in reading order
        self.lang = PDFString(lang) if lang else None
        self.pg = page
        self.alt = PDFString(alt) if alt else None
        self.a = f"<</O /Layout /BBox [{' '.join(f'{v:.2f}' for v in bbox)}]>>" if bbox else None
        self._page_number = page_number
        self._children: list[Element] = []

    def serialize(self, obj_dict: object = None, _security_handler: object = None) -> str:
        """The element as an indirect object, written directly.

        fpdf2's generic serialisation walks ``dir()`` of every object; a long
        annex has thousands of elements, and that walk doubled the render time.
        The certificate is never encrypted, so the security handler is unused.
        /Type is optional for structure elements and left out, and so is /Pg
        where the element holds no marked content of its own.
        """
        kids = " ".join(str(k) if isinstance(k, int) else k.ref for k in self.k)
        parts = [f"/S {self.s}", f"/P {self.p.ref}", f"/K [{kids}]"]
        if self.pg is not None and any(isinstance(k, int) for k in self.k):
            parts.append(f"/Pg {self.pg.ref}")
        if self.lang is not None:
            parts.append(f"/Lang {self.lang.serialize()}")
        if self.alt is not None:
            parts.append(f"/Alt {self.alt.serialize()}")
        if self.a is not None:
            parts.append(f"/A {self.a}")
        return f"{self.id} 0 obj\n<<{' '.join(parts)}>>\nendobj"

    def page_number(self) -> int:
        """The page its marked content is on (fpdf2 reads it for top-level elements)."""
        return self._page_number

    def add(self, child: Element) -> Element:
        self.k.append(child)
        self._children.append(child)
        return child

    def descendants(self) -> Iterator[Element]:
        for child in self._children:
            yield child
            yield from child.descendants()


class Tagger(StructureTreeBuilder):
    """The structure tree of one document, fed by the document as it draws."""

    def __init__(self) -> None:
        # fpdf2's builder makes its own root and Document; ours are the same objects,
        # with Elements below them.
        self.struct_tree_root = StructTreeRoot()
        self.document = Element("Document", self.struct_tree_root)
        self.doc_struct_elem = self.document  # type: ignore[assignment]
        self.struct_tree_root.k.append(self.document)
        self.spid_per_page_number: dict[int, int] = {}
        self._owners: dict[int, list[Element]] = {}  # page -> element of each MCID

    def struct_parents(self, page_number: int) -> int:
        """The page's key in the ParentTree (its /StructParents)."""
        spid = self.spid_per_page_number.get(page_number)
        if spid is None:
            spid = self.spid_per_page_number[page_number] = len(self.spid_per_page_number)
        return spid

    def mark(self, element: Element, page_number: int) -> int:
        """The next MCID on the page, owned by ``element``."""
        owners = self._owners.setdefault(page_number, [])
        owners.append(element)
        element.k.append(len(owners) - 1)
        spid = self.struct_parents(page_number)
        self.struct_tree_root.parent_tree.nums[spid].append(element)
        return len(owners) - 1

    def empty(self) -> bool:
        return not self.document.k

    def __iter__(self) -> Iterator[PDFObject]:
        yield self.struct_tree_root
        yield self.document
        yield self.struct_tree_root.parent_tree
        yield from self.document.descendants()
