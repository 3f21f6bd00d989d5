"""Mutated genuine certificates: never valid unless only inert bytes changed, never a crash.

``FUZZ_EXAMPLES`` sets the number of cases (2,000 in ``make test``; ``make fuzz``
runs more). Runs are derandomised so that CI is repeatable. ``make fuzz-atheris``
runs the same oracle under coverage-guided atheris (``tests/verifier/fuzz_atheris.py``).
"""

from __future__ import annotations

import os
import re
import time
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils.reader import PdfFileReader

from registry.certificates.issuance import find_accreditation, issue
from registry.changes import DEVELOPMENT
from registry.pki.material import get_document_signer, get_pki
from registry.web import current
from verifier.policy import Limits, verify
from verifier.report import Verdict
from verifier.sources import TrustBundle

from ..documents import demo_instance

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))
BUDGET = Limits(seconds=5.0)


def genuine_certificate(folder: Path) -> tuple[bytes, TrustBundle]:
    """A genuine B-LTA certificate from a throwaway instance, and the trust to check it."""
    app = demo_instance(folder, 10)
    with current.database(app).transaction() as session:
        pdf = issue(
            session,
            find_accreditation(session, "Testing-0002"),
            get_document_signer(app),
            current.settings(app),
            actor=DEVELOPMENT,
        ).pdf
    pki = get_pki(app)
    return pdf, TrustBundle((pki.root,), pki.qr_jwks())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    pdf, trust = genuine_certificate(tmp_path_factory.mktemp("fuzz"))
    return pdf, trust, inert_ranges(pdf)


def inert_ranges(pdf: bytes) -> list[range]:
    """Byte ranges whose change cannot alter meaning: /Contents zero padding, last revision."""
    ranges = []
    for match in re.finditer(rb"/Contents <([0-9a-fA-F]+)>", pdf):
        hex_digits = match.group(1)
        used = len(hex_digits.rstrip(b"0"))
        ranges.append(range(match.start(1) + used + (used % 2), match.end(1)))
    reader = PdfFileReader(BytesIO(pdf))
    last = reader.xrefs.total_revisions - 1
    stamps = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
    if stamps and max(s.signed_revision for s in stamps) < last:
        covered = max(s.byte_range[2] + s.byte_range[3] for s in stamps)
        ranges.append(range(covered, len(pdf)))
    return ranges


def inert(positions: range, ranges: list[range]) -> bool:
    return any(positions.start >= r.start and positions.stop <= r.stop for r in ranges)


def changed_span(original: bytes, mutated: bytes) -> range:
    """The smallest span of ``original`` outside which ``mutated`` is the same (any mutation)."""
    limit = min(len(original), len(mutated))
    prefix = 0
    while prefix < limit and original[prefix] == mutated[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and original[-1 - suffix] == mutated[-1 - suffix]:
        suffix += 1
    return range(prefix, max(prefix + 1, len(original) - suffix))


def check_mutation(pdf: bytes, trust: TrustBundle, ranges: list[range], mutated: bytes) -> None:
    """The fuzzing oracle: no exception, within budget, valid only if only inert bytes changed."""
    started = time.monotonic()
    report = verify(mutated, trust, None, limits=BUDGET)  # must not raise
    assert time.monotonic() - started < BUDGET.seconds + 2
    if report.document.value == "authentic" or report.verdict is Verdict.VALID:
        span = changed_span(pdf, mutated)
        assert mutated == pdf or inert(span, ranges), (span, report.summary())


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**9), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10**9), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), st.integers(0, 10**9), st.integers(1, 64)),
    st.tuples(st.just("splice"), st.integers(0, 10**9), st.integers(0, 10**9)),
)


def mutate(pdf: bytes, change: tuple) -> bytes:
    kind, where, arg = change
    at = where % len(pdf)
    if kind == "flip":
        out = bytearray(pdf)
        out[at] ^= arg
        return bytes(out)
    if kind == "insert":
        return pdf[:at] + arg + pdf[at:]
    if kind == "delete":
        return pdf[:at] + pdf[at + arg :]
    source = arg % len(pdf)
    chunk = pdf[source : source + 32]
    return pdf[:at] + chunk + pdf[at + len(chunk) :]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(change=mutation)
def test_mutations_are_never_valid_unless_inert(corpus, change):
    pdf, trust, ranges = corpus
    check_mutation(pdf, trust, ranges, mutate(pdf, change))


def test_changed_span_covers_every_change():
    original = b"0123456789"
    assert changed_span(original, b"0123X56789") == range(4, 5)
    assert changed_span(original, b"01234XY56789") == range(5, 6)  # an insertion
    assert changed_span(original, b"01236789") == range(4, 6)  # a deletion
    assert changed_span(original, original + b"!") == range(10, 11)
