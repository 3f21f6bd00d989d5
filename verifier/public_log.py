"""The ``public_log`` rule: the file is the one the agency's public log recorded at issuance.

A register's database can be edited; its log cannot be rewritten without
the signed checkpoints showing it (DESIGN §6). So an authentic answer also
asks the log: the certificate's ``certificate.issued`` leaf must name this
certificate and the SHA-256 of the issued file, and an RFC 9162 inclusion
proof must lead from that leaf to the root of a checkpoint signed by the log's
key. An LTA refresh appends to the issued file, so the issued bytes are a
prefix of any served copy, ending at one of its revisions' ``%%EOF``.

Failure is the default. Material that could not be had leaves the check
undecided (never passed); material that contradicts the file fails it, and a
failed ``public_log`` makes the document untrusted (``Report.document``).
"""

from __future__ import annotations

import hashlib
import json
import re

from . import merkle
from .merkle import ProofError
from .notes import Checkpoint, NoteError, Verifier, verify_note
from .report import Check, Outcome
from .sources import StatusAnswer

NAME = "public_log"
#: The leaf format the rule reads (``registry.log.leaves``, version 1).
LEAF_VERSION = 1
#: A revision ends at ``%%EOF`` and its end-of-line; at most this many are tried.
MAX_REVISIONS = 1000
EOF_MARK = re.compile(rb"%%EOF(\r\n|\r|\n)?")


def revision_digests(pdf: bytes) -> frozenset[str]:
    """SHA-256 of every prefix of ``pdf`` that ends a revision, and of the whole file.

    One pass over the file: the running hash is copied at each boundary.
    """
    found = {hashlib.sha256(pdf).hexdigest()}
    running = hashlib.sha256()
    at = 0
    for count, match in enumerate(EOF_MARK.finditer(pdf)):
        if count >= MAX_REVISIONS:
            break
        running.update(memoryview(pdf)[at : match.end()])
        at = match.end()
        found.add(running.copy().hexdigest())
    return frozenset(found)


def _undecided(detail: str, code: str) -> Check:
    return Check(NAME, Outcome.INDETERMINATE, detail, code)


def _failed(detail: str, code: str) -> Check:
    return Check(NAME, Outcome.FAILED, detail, code)


def _leaf_names(leaf: bytes, number: str, digests: frozenset[str]) -> bool:
    """Whether the leaf is this certificate's issuance, of a file this file starts with."""
    try:
        fact = json.loads(leaf)
    except ValueError:
        return False
    return (
        isinstance(fact, dict)
        and fact.get("v") == LEAF_VERSION
        and fact.get("type") == "certificate.issued"
        and fact.get("certificate") == number
        and fact.get("sha256") in digests
    )


def check_public_log(
    answer: StatusAnswer | None, number: str | None, digests: frozenset[str]
) -> Check:
    """Is this file's issuance in the public log, under a checkpoint signed by its key?"""
    if answer is None or not number:
        return _undecided("no register was consulted for the log", "no_status_source")
    if answer.detail.get("error"):
        return _undecided(f"could not be checked: {answer.detail['error']}", "registry_unreachable")
    log = answer.log
    if log is None or log.vkey is None:
        return _undecided("the status source gave no log proof", "no_proof")
    if log.error:
        return _undecided(log.error, "log_unreachable")
    if log.index is None:
        return _undecided("the register names no log index for this certificate", "no_proof")
    if log.checkpoint is None:
        return _undecided("the log has no signed checkpoint yet", "awaiting_checkpoint")
    try:
        note, _ = verify_note(log.checkpoint, [Verifier.parse(log.vkey)])
        checkpoint = Checkpoint.parse(note.text)
    except NoteError as exc:
        return _failed(f"the log's checkpoint is not signed by its key: {exc}", "bad_checkpoint")
    if checkpoint.size <= log.index:
        return _undecided(
            f"index {log.index} is not yet under a signed checkpoint (size {checkpoint.size})",
            "awaiting_checkpoint",
        )
    if log.leaf is None or not _leaf_names(log.leaf, number, digests):
        return _failed(
            f"the log's leaf {log.index} does not record this file as {number}", "leaf_mismatch"
        )
    try:
        merkle.verify_inclusion(
            merkle.leaf_hash(log.leaf), log.index, checkpoint.size, log.proof, checkpoint.root
        )
    except ProofError as exc:
        return _failed(f"the inclusion proof does not verify: {exc}", "bad_inclusion_proof")
    return Check(
        NAME,
        Outcome.PASSED,
        f"recorded in the public log at index {log.index} (checkpoint of size {checkpoint.size})",
    )
