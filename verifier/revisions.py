"""What changed after the approval signature (DESIGN section 4, rule 3).

pyHanko's own verdict accepts an /Info edit as LTA_UPDATES, and attack files
with empty or shadowing updates; so every revision after the signed one is
checked object by object here. Allowed after signing, and nothing else:

- a revision that adds a document timestamp: the /DocTimeStamp signature,
  its widget field, the AcroForm's field list, the page's /Annots, and DSS
  material;
- DSS material: the catalog gaining or changing /DSS, the DSS dictionary and
  VRI dictionaries, and new certificate/OCSP/CRL streams reachable from it;
- the XMP metadata stream, only where nothing but the modify/metadata dates
  and the producer differ (pyHanko rewrites it on every incremental write).

The last revision may be DSS-only; every other later revision must end with a
document timestamp covering it. Nothing may follow the final %%EOF.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

CATALOG_LTA_KEYS = frozenset({"/DSS", "/AcroForm"})
XMP_VOLATILE = re.compile(
    r"(xmp:ModifyDate|xmp:MetadataDate|pdf:Producer|x:xmptk)(=\"[^\"]*\"|>[^<]*<)"
)
EOF_TAIL = re.compile(rb"%%EOF[\r\n\s\x00]*\Z")


@dataclass(frozen=True)
class RevisionFinding:
    ok: bool
    detail: str
    code: str = "ok"


def _reachable(root: generic.PdfObject, resolver: Any) -> set[generic.Reference]:
    """Indirect objects reachable from ``root``, as the revision's resolver sees them."""
    seen: set[generic.Reference] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, generic.IndirectObject):
            if obj.reference in seen:
                continue
            seen.add(obj.reference)
            obj = resolver(obj.reference)
        if isinstance(obj, generic.DictionaryObject):
            stack.extend(obj.values())
        elif isinstance(obj, generic.ArrayObject):
            stack.extend(obj)
    return seen


def _historic(reader: PdfFileReader, revision: int, ref: generic.Reference) -> generic.PdfObject:
    return reader.get_historical_resolver(revision)(ref)


def _normalise_xmp(data: bytes) -> str:
    return XMP_VOLATILE.sub(r"\1", data.decode("utf-8", errors="replace"))


def _dict_without(obj: generic.PdfObject, keys: Iterable[str]) -> dict[str, object]:
    if not isinstance(obj, generic.DictionaryObject):
        return {"__type__": type(obj).__name__}
    return {k: obj.raw_get(k) for k in obj if k not in set(keys)}


def analyse(reader: PdfFileReader, data: bytes, signed_revision: int) -> RevisionFinding:
    """Judge every revision after ``signed_revision``; the first problem wins."""
    if not EOF_TAIL.search(data[-1024:]):
        return RevisionFinding(
            False, "bytes were appended after the end of the PDF", "trailing_data"
        )
    total = reader.xrefs.total_revisions
    stamps = {
        s.signed_revision: s
        for s in reader.embedded_signatures
        if s.sig_object_type == "/DocTimeStamp"
    }
    root_ref = reader.root_ref
    info_ref = _info_ref(reader, signed_revision)
    for revision in range(signed_revision + 1, total):
        if _info_ref(reader, revision) != info_ref:
            return RevisionFinding(
                False,
                f"revision {revision} replaces the document information (/Info)",
                "info_edited",
            )
        finding = _check_revision(reader, revision, root_ref, info_ref, revision in stamps)
        if not finding.ok:
            return finding
    # Coverage, once every revision's content is known to be LTA material: a
    # DSS-only revision is fine at the end; in the middle a later document
    # timestamp must cover it.
    for revision in range(signed_revision + 1, total - 1):
        if revision not in stamps and not any(r > revision for r in stamps):
            return RevisionFinding(
                False,
                f"revision {revision} is not covered by a document timestamp",
                "uncovered_revision",
            )
    last = total - 1
    # A trailing DSS-only revision (checked above) must follow the last timestamp.
    if last > signed_revision and last not in stamps and (not stamps or max(stamps) != last - 1):
        return RevisionFinding(
            False,
            "the last revision is not covered by the signature or a timestamp",
            "uncovered_revision",
        )
    if last == signed_revision:
        return RevisionFinding(True, "nothing was added after signing")
    return RevisionFinding(True, "only long-term validation data was added after signing")


def _info_ref(reader: PdfFileReader, revision: int) -> generic.Reference | None:
    trailer = reader.trailer.flatten(revision)
    info = trailer.raw_get("/Info") if "/Info" in trailer else None
    return info.reference if isinstance(info, generic.IndirectObject) else None


def _check_revision(
    reader: PdfFileReader,
    revision: int,
    root_ref: generic.Reference,
    info_ref: generic.Reference | None,
    has_stamp: bool,
) -> RevisionFinding:
    changed = set(reader.xrefs.explicit_refs_in_revision(revision))
    if reader.xrefs.refs_freed_in_revision(revision):
        return RevisionFinding(False, f"revision {revision} deletes objects", "objects_freed")
    if not changed:
        return RevisionFinding(False, f"revision {revision} is an empty update", "empty_update")
    if info_ref is not None and info_ref in changed:
        return RevisionFinding(
            False, f"revision {revision} edits the document information (/Info)", "info_edited"
        )
    previous = revision - 1
    catalog = _historic(reader, revision, root_ref)
    before = _historic(reader, previous, root_ref)
    if not isinstance(catalog, generic.DictionaryObject):
        return RevisionFinding(False, "the catalog is not a dictionary", "catalog_changed")
    allowed: set[generic.Reference] = set()
    if root_ref in changed:
        if _dict_without(catalog, CATALOG_LTA_KEYS) != _dict_without(before, CATALOG_LTA_KEYS):
            return RevisionFinding(
                False, f"revision {revision} changes the document catalog", "catalog_changed"
            )
        direct = catalog.raw_get("/AcroForm") if "/AcroForm" in catalog else None
        if not isinstance(direct, generic.IndirectObject | type(None)) and not has_stamp:
            # A form written into the catalog itself changes with it: only a
            # timestamp revision may add its field there (checked below).
            old_form = before.raw_get("/AcroForm") if "/AcroForm" in before else None
            if direct != old_form:
                return RevisionFinding(False, "the form was changed after signing", "form_changed")
        allowed.add(root_ref)
    resolver = reader.get_historical_resolver(revision)
    # What the DSS held before, as the previous revision saw it: read through this
    # revision's resolver, an edited DSS would vouch for its own new content.
    old_dss = (
        _reachable(before.raw_get("/DSS"), reader.get_historical_resolver(previous))
        if isinstance(before, generic.DictionaryObject) and "/DSS" in before
        else set()
    )
    if "/DSS" in catalog:
        dss_objects = _reachable(catalog.raw_get("/DSS"), resolver)
        existed = {ref for ref in dss_objects if _existed_before(reader, ref, revision)}
        if existed - old_dss:
            return RevisionFinding(
                False, f"revision {revision} pulls existing content into the DSS", "dss_abuse"
            )
        allowed |= dss_objects
    metadata = catalog.raw_get("/Metadata") if "/Metadata" in catalog else None
    if isinstance(metadata, generic.IndirectObject) and metadata.reference in changed:
        now_xmp = _historic(reader, revision, metadata.reference)
        old_xmp = _historic(reader, previous, metadata.reference)
        if not (
            isinstance(now_xmp, generic.StreamObject)
            and isinstance(old_xmp, generic.StreamObject)
            and _normalise_xmp(now_xmp.data) == _normalise_xmp(old_xmp.data)
        ):
            return RevisionFinding(
                False, f"revision {revision} changes the XMP metadata", "metadata_changed"
            )
        allowed.add(metadata.reference)
    if has_stamp:
        finding = _timestamp_objects(reader, revision, changed, catalog, before, allowed)
        if not finding.ok:
            return finding
    unexpected = _referenced(reader, revision, changed - allowed)
    if unexpected:
        refs = ", ".join(
            f"{r.idnum} {r.generation} R" for r in sorted(unexpected, key=lambda r: r.idnum)
        )
        return RevisionFinding(
            False,
            f"revision {revision} changes content after signing (objects {refs})",
            "content_changed",
        )
    return RevisionFinding(True, "ok")


def _referenced(
    reader: PdfFileReader, revision: int, objects: set[generic.Reference]
) -> set[generic.Reference]:
    """``objects`` less those new in ``revision`` that nothing in it refers to.

    An object added but reachable from neither the catalog nor the trailer is
    never read by a viewer (pyHanko itself writes such an orphan VRI when the
    DSS arrays are indirect). A later revision that tries to put it to use must
    change a referring object, and is judged for that change.
    """
    new = {ref for ref in objects if not _existed_before(reader, ref, revision)}
    if not new:
        return objects
    trailer = reader.trailer.flatten(revision)
    roots = [trailer.raw_get(key) for key in trailer if key not in ("/Prev", "/XRefStm")]
    resolver = reader.get_historical_resolver(revision)
    reachable = set().union(*(_reachable(root, resolver) for root in roots))
    return objects - (new - reachable)


#: Object numbers each revision's predecessors defined, per reader (read once).
_NUMBERS: weakref.WeakKeyDictionary[PdfFileReader, dict[int, frozenset[int]]] = (
    weakref.WeakKeyDictionary()
)


def _numbers_before(reader: PdfFileReader, revision: int) -> frozenset[int]:
    known = _NUMBERS.setdefault(reader, {})
    if revision not in known:
        known[revision] = frozenset(
            ref.idnum for r in range(revision) for ref in reader.xrefs.explicit_refs_in_revision(r)
        )
    return known[revision]


def _existed_before(reader: PdfFileReader, ref: generic.Reference, revision: int) -> bool:
    """Whether an earlier revision defined this object number, in any generation.

    By number, not by reference: a later ``4 1 obj`` beside the page's ``4 0 R``
    is no new object, whatever its generation says (pyHanko resolves the old
    reference to it, other viewers do not).
    """
    if ref.idnum in _numbers_before(reader, revision):
        return True
    try:
        introduced = reader.xrefs.get_introducing_revision(ref)
    except (KeyError, ValueError, IndexError):
        return False
    return introduced < revision


def _invisible(widget: generic.DictionaryObject) -> bool:
    """A widget with no area (pyHanko writes ``/Rect [0 0 0 0]`` for a document timestamp)."""
    rect = widget.get("/Rect")
    try:
        x1, y1, x2, y2 = (float(v) for v in rect)
    except (TypeError, ValueError):
        return False
    return x1 == x2 or y1 == y2


def _timestamp_objects(
    reader: PdfFileReader,
    revision: int,
    changed: set[generic.Reference],
    catalog: generic.DictionaryObject,
    before: generic.PdfObject,
    allowed: set[generic.Reference],
) -> RevisionFinding:
    """Allow the timestamp's signature, widget, field list and page /Annots entry."""
    new = {ref for ref in changed if not _existed_before(reader, ref, revision)}
    widgets = []
    for ref in new:
        obj = _historic(reader, revision, ref)
        if not isinstance(obj, generic.DictionaryObject):
            continue
        if obj.get("/Type") == "/DocTimeStamp":
            allowed.add(ref)
        elif obj.get("/FT") == "/Sig" and obj.get("/Subtype") == "/Widget":
            value = obj.raw_get("/V") if "/V" in obj else None
            target = (
                _historic(reader, revision, value.reference)
                if isinstance(value, generic.IndirectObject)
                else None
            )
            if isinstance(target, generic.DictionaryObject) and (
                target.get("/Type") == "/DocTimeStamp"
            ):
                if not _invisible(obj):
                    # The agency's TSA stamps for anyone: a stamp field must not paint.
                    return RevisionFinding(
                        False,
                        f"revision {revision} adds a visible timestamp field",
                        "annotation_added",
                    )
                allowed.add(ref)
                widgets.append(ref)
    form = catalog.raw_get("/AcroForm") if "/AcroForm" in catalog else None
    indirect = isinstance(form, generic.IndirectObject)
    if (indirect and form.reference in changed) or (
        form is not None and not indirect and isinstance(before, generic.DictionaryObject)
    ):
        if indirect:
            now_form = _historic(reader, revision, form.reference)
            old_form = _historic(reader, revision - 1, form.reference)
        else:
            # Written into the catalog itself: compared as the catalog was before.
            now_form = form
            old_form = before.get("/AcroForm", generic.DictionaryObject())
        if _dict_without(now_form, {"/Fields", "/SigFlags"}) != _dict_without(
            old_form, {"/Fields", "/SigFlags"}
        ):
            return RevisionFinding(False, "the form was changed after signing", "form_changed")
        old_fields = [
            f.reference
            for f in old_form.get("/Fields", [])
            if isinstance(f, generic.IndirectObject)
        ]
        new_fields = [
            f.reference
            for f in now_form.get("/Fields", [])
            if isinstance(f, generic.IndirectObject)
        ]
        if new_fields[: len(old_fields)] != old_fields or set(new_fields[len(old_fields) :]) - set(
            widgets
        ):
            return RevisionFinding(False, "form fields were changed after signing", "form_changed")
        if indirect:
            allowed.add(form.reference)
    for ref in changed - allowed:
        obj = _historic(reader, revision, ref)
        if isinstance(obj, generic.DictionaryObject) and obj.get("/Type") == "/Page":
            old = _historic(reader, revision - 1, ref)
            if _dict_without(obj, {"/Annots"}) != _dict_without(old, {"/Annots"}):
                return RevisionFinding(False, "a page was changed after signing", "page_changed")
            old_annots = (
                list(old.get("/Annots", [])) if isinstance(old, generic.DictionaryObject) else []
            )
            new_annots = list(obj.get("/Annots", []))
            old_refs = [a.reference for a in old_annots if isinstance(a, generic.IndirectObject)]
            new_refs = [a.reference for a in new_annots if isinstance(a, generic.IndirectObject)]
            if new_refs[: len(old_refs)] != old_refs or set(new_refs[len(old_refs) :]) - set(
                widgets
            ):
                return RevisionFinding(
                    False, "annotations were added after signing", "annotation_added"
                )
            allowed.add(ref)
    return RevisionFinding(True, "ok")
