"""Each refusal of ``verifier.revisions.analyse``, one per reason code, on files made here.

The genuine file is signed with ``keys`` (PAdES B-LTA, no registry); each
attack appends one incremental update with pyHanko's writer, sometimes with a
document timestamp in the same revision, as an LTA update would carry.
"""

from __future__ import annotations

from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers

from keys.signing import refresh_lta, sign_pdf
from verifier.revisions import analyse

from ..documents import blank_pdf


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
