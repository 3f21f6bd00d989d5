"""Signed files from pyHanko's own test data get true answers (see ``foreign/README.md``).

None is the agency's. An intact one is called intact and "not signed by the
agency"; one changed after signing is called changed; one with several
signatures, or one pyHanko cannot validate, is "could not be checked". None is
ever "unsigned", and none is authentic.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keys.pki import Pki
from verifier.policy import verify
from verifier.report import DocumentVerdict, Integrity, Issuer

from . import agency

FOLDER = Path(__file__).parent / "foreign" / "pyhanko"
INTACT, CHANGED, UNCHECKED = (
    Integrity.INTACT,
    Integrity.CHANGED_AFTER_SIGNING,
    Integrity.NOT_CHECKED,
)
TRUTH = {
    # Intact signatures by another PKI, in framings our own signer never writes.
    "certified-with-indirect-refs-in-dir.pdf": INTACT,
    "ed448-shake256-nolen.pdf": INTACT,
    "pades-lta-dss-indirect-arrs-test.pdf": INTACT,  # B-LTA, with an orphan VRI object
    "pades-with-old-style-signing-cert-attr.pdf": INTACT,
    "sig-no-signed-attrs.pdf": INTACT,
    "sig-with-ski-sid.pdf": INTACT,  # signer named by subject key identifier
    # Byte ranges that leave content unsigned.
    "one-byterange.pdf": CHANGED,
    "signature-gap-too-big.pdf": CHANGED,
    "tail-uncovered.pdf": CHANGED,
    "weird-byterange.pdf": CHANGED,
    # Several signatures (certificates carry one), or an embedded-content signature.
    "form-update-ap-indirect-sneaky-trailer.pdf": UNCHECKED,
    "form-update-override-appearance-stream-sneaky.pdf": UNCHECKED,
    "minimal-signed-twice-both-created.pdf": UNCHECKED,
    "pdf-sig-with-econtent.pdf": UNCHECKED,
}


def test_every_file_in_the_folder_has_a_pinned_answer():
    assert {p.name for p in FOLDER.glob("*.pdf")} == set(TRUTH)


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_a_file_signed_by_another_project_gets_a_true_answer(name: str, shared_pki: Pki):
    report = verify((FOLDER / name).read_bytes(), agency.trust(shared_pki))
    assert report.headline.integrity is TRUTH[name], report.summary()
    assert report.document is not DocumentVerdict.AUTHENTIC
    assert report.document is not DocumentVerdict.UNSIGNED
    assert all(c.code != "unsigned" for c in report.checks)
    if TRUTH[name] is INTACT:
        assert report.document is DocumentVerdict.UNTRUSTED
        assert report.headline.issuer is Issuer.NOT_AGENCY
        assert report.check("unmodified_after_signing").passed
        assert report.check("signer_trusted").code == "untrusted_signer"
    elif TRUTH[name] is CHANGED:
        assert report.document is DocumentVerdict.MODIFIED
    else:
        assert report.document is DocumentVerdict.UNTRUSTED
        assert report.headline.issuer is Issuer.NOT_SHOWN
