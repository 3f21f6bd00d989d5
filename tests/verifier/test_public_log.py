"""The ``public_log`` rule, one test per reason code, with a log built here in memory.

No registry: the leaves, the tree, the signed checkpoint and the proofs are
made with the verifier's own ``merkle`` and ``notes`` and a fresh Ed25519 key.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier import merkle
from verifier.notes import Checkpoint, Verifier, sign_note
from verifier.public_log import check_public_log, revision_digests
from verifier.report import CertificateStatus, Check, DocumentVerdict, Outcome, Report
from verifier.sources import LogProof, StatusAnswer

from .test_merkle import stored

ORIGIN = "registry.example.go.th/log"
NUMBER = "Testing-0002/R1"
ISSUED = b"%PDF-1.7\n...the issued certificate...\n%%EOF\n"
SERVED = ISSUED + b"...an LTA update...\n%%EOF\n"
NOW = datetime.now(UTC)


def leaf(number: str = NUMBER, pdf: bytes = ISSUED) -> bytes:
    import hashlib

    fact = {
        "v": 1,
        "type": "certificate.issued",
        "certificate": number,
        "sha256": hashlib.sha256(pdf).hexdigest(),
    }
    return json.dumps(fact, sort_keys=True, separators=(",", ":")).encode()


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def logged(key: Ed25519PrivateKey, index: int = 5, size: int = 9, data: bytes | None = None):
    """A log of ``size`` leaves with this certificate's at ``index``, and its proof."""
    leaves = [b"other fact %d" % i for i in range(size)]
    leaves[index] = data or leaf()
    hashes = stored(leaves)
    root = merkle.root_hash(hashes, size)
    note = sign_note(Checkpoint(ORIGIN, size, root).body, ORIGIN, key)
    proof = tuple(merkle.inclusion_proof(hashes, index, size))
    vkey = Verifier(ORIGIN, key.public_key()).vkey()
    return LogProof(index, note, leaves[index], proof, vkey)


def answer(log: LogProof | None, **detail) -> StatusAnswer:
    return StatusAnswer(CertificateStatus.CURRENT, True, "live", NOW, detail, log)


def check(log: LogProof | None, pdf: bytes = SERVED, **detail) -> Check:
    return check_public_log(answer(log, **detail), NUMBER, revision_digests(pdf))


def test_a_logged_certificate_is_recorded(key):
    found = check(logged(key))
    assert found.outcome is Outcome.PASSED, found
    assert found.detail == "recorded in the public log at index 5 (checkpoint of size 9)"


def test_the_issued_file_itself_is_recorded_too(key):
    assert check(logged(key), pdf=ISSUED).passed


@pytest.mark.parametrize("index,size", [(0, 1), (0, 2), (255, 256), (256, 300), (1000, 1001)])
def test_every_position_in_any_tree_proves(key, index, size):
    assert check(logged(key, index, size)).passed


def test_revision_digests_hold_every_prefix_that_ends_a_revision():
    import hashlib

    digests = revision_digests(SERVED)
    assert hashlib.sha256(ISSUED).hexdigest() in digests
    assert hashlib.sha256(SERVED).hexdigest() in digests
    assert hashlib.sha256(ISSUED[:-1]).hexdigest() not in digests


def test_no_register_leaves_it_undecided():
    found = check_public_log(None, NUMBER, revision_digests(SERVED))
    assert (found.outcome, found.code) == (Outcome.INDETERMINATE, "no_status_source")


def test_an_unreachable_register_leaves_it_undecided(key):
    found = check(logged(key), error="timed out")
    assert (found.outcome, found.code) == (Outcome.INDETERMINATE, "registry_unreachable")


@pytest.mark.parametrize(
    "log", [None, LogProof(None, vkey="x"), LogProof(3, checkpoint="x", vkey=None)]
)
def test_no_proof_leaves_it_undecided(log):
    found = check(log)
    assert (found.outcome, found.code) == (Outcome.INDETERMINATE, "no_proof")


def test_an_unreachable_log_leaves_it_undecided(key):
    found = check(replace(logged(key), error="the log did not answer"))
    assert (found.outcome, found.code) == (Outcome.INDETERMINATE, "log_unreachable")


def test_a_leaf_not_yet_under_a_checkpoint_is_awaited(key):
    found = check(replace(logged(key), index=9, leaf=None, proof=()))
    assert (found.outcome, found.code) == (Outcome.INDETERMINATE, "awaiting_checkpoint")
    found = check(LogProof(0, vkey=logged(key).vkey))
    assert (found.outcome, found.code) == (Outcome.INDETERMINATE, "awaiting_checkpoint")


def test_a_checkpoint_by_another_key_fails(key):
    other = logged(Ed25519PrivateKey.generate())
    found = check(replace(other, vkey=logged(key).vkey))
    assert (found.outcome, found.code) == (Outcome.FAILED, "bad_checkpoint")


def test_an_altered_checkpoint_fails(key):
    proof = logged(key)
    found = check(replace(proof, checkpoint=proof.checkpoint.replace("\n9\n", "\n8\n", 1)))
    assert (found.outcome, found.code) == (Outcome.FAILED, "bad_checkpoint")


@pytest.mark.parametrize(
    "data",
    [
        leaf(number="Testing-0003/R1"),
        leaf(pdf=b"%PDF-1.7\nanother file\n%%EOF\n"),
        leaf().replace(b'"v":1', b'"v":2'),
        leaf().replace(b"certificate.issued", b"certificate.refreshed"),
        b"not json",
    ],
)
def test_a_leaf_that_names_another_file_fails(key, data):
    found = check(logged(key, data=data))
    assert (found.outcome, found.code) == (Outcome.FAILED, "leaf_mismatch")


def test_a_leaf_swapped_in_without_its_proof_fails(key):
    proof = logged(key)
    # The same fact in other bytes: it names the file, but the tree holds other bytes.
    found = check(replace(proof, leaf=leaf() + b" "))
    assert (found.outcome, found.code) == (Outcome.FAILED, "bad_inclusion_proof")
    honest_elsewhere = logged(key, index=4)
    found = check(replace(honest_elsewhere, index=5))
    assert (found.outcome, found.code) == (Outcome.FAILED, "bad_inclusion_proof")


@pytest.mark.parametrize("cut", ["short", "long", "flipped"])
def test_a_wrong_inclusion_proof_fails(key, cut):
    proof = logged(key)
    path = {
        "short": proof.proof[:-1],
        "long": (*proof.proof, bytes(32)),
        "flipped": (bytes([proof.proof[0][0] ^ 1]) + proof.proof[0][1:], *proof.proof[1:]),
    }[cut]
    found = check(replace(proof, proof=path))
    assert (found.outcome, found.code) == (Outcome.FAILED, "bad_inclusion_proof")


def test_a_failed_log_check_makes_the_document_untrusted(key):
    passing = [Check(n, Outcome.PASSED, "ok") for n in ("parse", "signature_integrity")]
    integrity = [
        Check(n, Outcome.PASSED, "ok")
        for n in (
            "signer_trusted",
            "signer_role",
            "signature_timestamp",
            "unmodified_after_signing",
            "long_term_validation",
            "registry_binding",
            "qr_payload",
        )
    ]
    base = (*passing, *integrity)
    undecided = Report((*base, check(LogProof(None, vkey="x"))))
    assert undecided.document is DocumentVerdict.AUTHENTIC
    recorded = Report((*base, check(logged(key))))
    assert recorded.document is DocumentVerdict.AUTHENTIC
    contradicted = Report((*base, check(logged(key, data=leaf(number="Testing-0003/R1")))))
    assert contradicted.document is DocumentVerdict.UNTRUSTED
