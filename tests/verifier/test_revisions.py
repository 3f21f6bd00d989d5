"""Each refusal of ``verifier.revisions.analyse``, one per reason code, on files made here.

The genuine file is signed with ``keys`` (PAdES B-LTA, no registry); each
attack appends one incremental update with pyHanko's writer, sometimes with a
document timestamp in the same revision, as an LTA update would carry.
"""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers

from keys.signing import refresh_lta, sign_pdf
from verifier.revisions import _existed_before, analyse

from ..documents import blank_pdf
from .agency import signed_without_lta


@pytest.fixture(scope="module")
def genuine(shared_signer) -> bytes:
    return sign_pdf(blank_pdf(), shared_signer)


def signed_revision(data: bytes) -> int:
    reader = PdfFileReader(BytesIO(data), strict=False)
    return next(
        s.signed_revision for s in reader.embedded_signatures if s.sig_object_type == "/Sig"
    )


def finding(data: bytes, revision: int):
    return analyse(PdfFileReader(BytesIO(data), strict=False), data, revision)


def update(pdf: bytes, change, *, stamp=None) -> bytes:
    """One incremental revision made by ``change(writer)``; with ``stamp``, timestamped too."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    change(writer)
    out = BytesIO()
    if stamp is None:
        writer.write(out)
    else:
        signers.PdfTimeStamper(stamp).timestamp_pdf(writer, "sha256", output=out)
    return out.getvalue()


def page_ref(writer: IncrementalPdfFileWriter) -> generic.Reference:
    return writer.root["/Pages"]["/Kids"].raw_get(0).reference


def test_the_genuine_file_and_an_lta_refresh_pass(genuine, shared_signer):
    revision = signed_revision(genuine)
    assert finding(genuine, revision).ok
    refreshed = refresh_lta(genuine, shared_signer)
    assert finding(refreshed, revision).ok, finding(refreshed, revision)


def test_a_catalog_change(genuine):
    def change(writer):
        writer.root[generic.NameObject("/Lang")] = generic.TextStringObject("en")
        writer.update_root()

    assert finding(update(genuine, change), signed_revision(genuine)).code == "catalog_changed"


def test_a_page_change_under_a_timestamp(genuine, shared_signer):
    def change(writer):
        page = writer.get_object(page_ref(writer))
        page[generic.NameObject("/Rotate")] = generic.NumberObject(90)
        writer.update_container(page)

    altered = update(genuine, change, stamp=shared_signer.timestamper)
    assert finding(altered, signed_revision(genuine)).code == "page_changed"


def test_an_annotation_added_under_a_timestamp(genuine, shared_signer):
    def change(writer):
        page = writer.get_object(page_ref(writer))
        note = writer.add_object(
            generic.DictionaryObject(
                {
                    generic.NameObject("/Type"): generic.NameObject("/Annot"),
                    generic.NameObject("/Subtype"): generic.NameObject("/Text"),
                    generic.NameObject("/Rect"): generic.ArrayObject(
                        [generic.NumberObject(v) for v in (10, 10, 20, 20)]
                    ),
                }
            )
        )
        annots = page.get("/Annots", generic.ArrayObject())
        annots.append(note)
        page[generic.NameObject("/Annots")] = annots
        writer.update_container(page)

    altered = update(genuine, change, stamp=shared_signer.timestamper)
    assert finding(altered, signed_revision(genuine)).code in (
        "annotation_added",
        "content_changed",
    )


def test_a_form_change(genuine):
    """/NeedAppearances makes viewers redraw field values: never allowed after signing."""

    def change(writer):
        form = writer.root["/AcroForm"]
        form[generic.NameObject("/NeedAppearances")] = generic.BooleanObject(True)
        writer.update_container(form)

    altered = update(genuine, change)
    assert finding(altered, signed_revision(genuine)).code == "content_changed"


def test_a_form_written_into_the_catalog(genuine):
    """The catalog's /AcroForm is an LTA key; a form moved into the catalog is still checked."""

    def change(writer):
        form = generic.DictionaryObject(dict(writer.root["/AcroForm"]))
        form[generic.NameObject("/NeedAppearances")] = generic.BooleanObject(True)
        writer.root[generic.NameObject("/AcroForm")] = form
        writer.update_root()

    altered = update(genuine, change)
    assert finding(altered, signed_revision(genuine)).code == "form_changed"


def test_existing_content_pulled_into_the_dss(genuine):
    def change(writer):
        dss = writer.root["/DSS"]
        dss[generic.NameObject("/Certs")] = generic.ArrayObject(
            [generic.IndirectObject(page_ref(writer).idnum, 0, writer)]
        )
        writer.update_container(dss)

    assert finding(update(genuine, change), signed_revision(genuine)).code == "dss_abuse"


def test_a_dss_revision_in_the_middle_must_be_covered(genuine):
    def touch_dss(writer):
        dss = writer.root["/DSS"]
        dss[generic.NameObject("/Extra")] = generic.ArrayObject()
        writer.update_container(dss)

    twice = update(update(genuine, touch_dss), touch_dss)
    assert finding(twice, signed_revision(genuine)).code == "uncovered_revision"


def test_the_xmp_metadata_changed(genuine):
    def change(writer):
        stream = generic.StreamObject(
            {generic.NameObject("/Type"): generic.NameObject("/Metadata")},
            stream_data=b"<x:xmpmeta><dc:title>Another certificate</dc:title></x:xmpmeta>",
        )
        meta = writer.root.raw_get("/Metadata") if "/Metadata" in writer.root else None
        if isinstance(meta, generic.IndirectObject):
            writer.objects[(meta.generation, meta.idnum)] = stream
            writer.mark_update(meta)
        else:
            writer.root[generic.NameObject("/Metadata")] = writer.add_object(stream)
            writer.update_root()

    code = finding(update(genuine, change), signed_revision(genuine)).code
    assert code in ("metadata_changed", "catalog_changed")


# --- the refusals pyHanko's own diff analysis makes first, checked here on their own ---


def _raw_update(pdf: bytes, objects: dict[int, bytes], trailer: bytes = b"") -> bytes:
    """A classic incremental update written by hand: what no PDF library would write."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    root = reader.root_ref
    size = max(int(reader.trailer["/Size"]), max(objects, default=0) + 1)
    prev = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    body, rows = bytearray(), bytearray()
    for number, content in sorted(objects.items()):
        rows += b"%d 1\n%010d 00000 n \n" % (number, len(pdf) + len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    at = len(pdf) + len(body)
    return bytes(
        pdf
        + body
        + b"xref\n0 1\n0000000000 65535 f \n"
        + rows
        + b"trailer\n<< /Size %d /Root %d %d R /Prev %d %s>>\nstartxref\n%d\n%%%%EOF\n"
        % (size, root.idnum, root.generation, prev, trailer, at)
    )


def test_a_later_revision_that_replaces_the_document_information(genuine):
    size = int(PdfFileReader(BytesIO(genuine), strict=False).trailer["/Size"])
    altered = _raw_update(genuine, {size: b"<< /Title (Another) >>"}, b"/Info %d 0 R " % size)
    assert finding(altered, signed_revision(genuine)).code == "info_edited"


def _raw(obj: generic.PdfObject) -> bytes:
    out = BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


def test_a_catalog_that_was_not_a_dictionary_for_one_revision(genuine):
    reader = PdfFileReader(BytesIO(genuine), strict=False)
    root = reader.root_ref
    once = _raw_update(genuine, {root.idnum: b"42"})
    back = _raw_update(once, {root.idnum: _raw(reader.root)})
    assert finding(back, signed_revision(genuine)).code == "catalog_changed"


def test_a_signed_file_with_no_timestamp_then_dss_data(shared_signer):
    """B-B, then a DSS-only revision: nothing covers it (no timestamp at all)."""
    plain = signed_without_lta(shared_signer, None)

    def add_dss(writer):
        writer.root[generic.NameObject("/DSS")] = writer.add_object(
            generic.DictionaryObject({generic.NameObject("/Certs"): generic.ArrayObject()})
        )
        writer.update_root()

    assert finding(update(plain, add_dss), signed_revision(plain)).code == "uncovered_revision"


def test_an_xmp_rewrite_alone_still_needs_a_timestamp(shared_signer):
    """Only the metadata stream rewritten, its dates alone changed: still not covered."""
    plain = signed_without_lta(shared_signer, None)
    reader = PdfFileReader(BytesIO(plain), strict=False)
    meta = reader.root.raw_get("/Metadata").reference
    data = re.sub(
        rb"ModifyDate>[^<]*<", b"ModifyDate>2030-01-01T00:00:00Z<", reader.get_object(meta).data
    )
    stream = b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream" % (
        len(data),
        data,
    )
    found = finding(_raw_update(plain, {meta.idnum: stream}), signed_revision(plain))
    assert found.code == "uncovered_revision"


def test_a_timestamp_revision_with_the_form_written_into_the_catalog(genuine, shared_signer):
    def inline_form(writer):
        form = generic.DictionaryObject(dict(writer.root["/AcroForm"]))
        form[generic.NameObject("/DA")] = generic.TextStringObject("/Helv 0 Tf 0 g")
        writer.root[generic.NameObject("/AcroForm")] = form
        writer.update_root()

    altered = update(genuine, inline_form, stamp=shared_signer.timestamper)
    assert finding(altered, signed_revision(genuine)).code in ("form_changed", "catalog_changed")


def test_an_object_the_xref_does_not_know_did_not_exist_before(genuine):
    reader = PdfFileReader(BytesIO(genuine), strict=False)
    assert not _existed_before(reader, generic.Reference(99_999, 0), 1)


def test_a_new_generation_of_an_old_object_is_not_a_new_object(genuine):
    """The last (unsigned) revision gains ``K 1 obj`` beside the page's ``K 0 R``: a shadow.

    poppler reads the page differently from pyHanko here; it is content changed,
    never an inert new object.
    """
    reader = PdfFileReader(BytesIO(genuine), strict=False)
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    contents = page.raw_get("/Contents")
    number = (contents if isinstance(contents, generic.IndirectObject) else contents[0]).idnum
    body = b"BT /F1 40 Tf 60 600 Td (VALID TO 2099) Tj ET"
    obj = b"%d 1 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (number, len(body), body)
    at = genuine.rfind(b"\nxref\n") + 1
    tail = genuine[at:].replace(
        b"0 1\n0000000000 65535 f \n",
        b"0 1\n0000000000 65535 f \n%d 1\n%010d 00001 n \n" % (number, at),
        1,
    )
    shadowed = re.sub(
        rb"startxref\n\d+\n%%EOF\n$",
        b"startxref\n%d\n%%%%EOF\n" % (at + len(obj)),
        genuine[:at] + obj + tail,
    )
    assert finding(shadowed, signed_revision(genuine)).code == "content_changed"


def test_a_visible_timestamp_field_is_an_added_annotation(genuine, shared_signer):
    """Anyone may get the agency's TSA to stamp: a stamp revision must not paint anything."""
    refreshed = refresh_lta(genuine, shared_signer)
    last_stamp = refreshed.rfind(b"/Rect [ 0 0 0 0 ]")
    assert last_stamp > len(genuine)
    visible = (
        refreshed[:last_stamp]
        + b"/Rect [ 0 0 9 9 ]"
        + refreshed[last_stamp + len(b"/Rect [ 0 0 9 9 ]") :]
    )
    assert finding(visible, signed_revision(genuine)).code == "annotation_added"
