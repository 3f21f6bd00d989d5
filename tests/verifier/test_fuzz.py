"""Mutated genuine certificates: never valid unless only inert bytes changed, never a crash.

``FUZZ_EXAMPLES`` sets the number of cases (2,000 in ``make test``; ``make fuzz``
runs more). Runs are derandomised so that CI is repeatable.
"""

from __future__ import annotations

import os
import re
import time
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.orm import Session

from registry import agency, db
from registry.issuance import find_accreditation, issue
from verifier.policy import Limits, verify
from verifier.report import Verdict
from verifier.sources import TrustBundle

from ..documents import demo_instance

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))
BUDGET = Limits(seconds=5.0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    app = demo_instance(tmp_path_factory.mktemp("fuzz"), 10)
    with Session(db.get_engine(app), expire_on_commit=False) as session, session.begin():
        pdf = issue(
            session,
            find_accreditation(session, "Testing-0002"),
            agency.get_document_signer(app),
            app.config,
        ).pdf
    pki = agency.get_pki(app)
    trust = TrustBundle((pki.root,), pki.qr_jwks())
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


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**9), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10**9), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), st.integers(0, 10**9), st.integers(1, 64)),
    st.tuples(st.just("splice"), st.integers(0, 10**9), st.integers(0, 10**9)),
)


def mutate(pdf: bytes, change: tuple) -> tuple[bytes, range]:
    kind, where, arg = change
    at = where % len(pdf)
    if kind == "flip":
        out = bytearray(pdf)
        out[at] ^= arg
        return bytes(out), range(at, at + 1)
    if kind == "insert":
        return pdf[:at] + arg + pdf[at:], range(at, at + 1)
    if kind == "delete":
        return pdf[:at] + pdf[at + arg :], range(at, min(len(pdf), at + arg))
    source = arg % len(pdf)
    chunk = pdf[source : source + 32]
    return pdf[:at] + chunk + pdf[at + len(chunk) :], range(at, min(len(pdf), at + len(chunk)))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(change=mutation)
def test_mutations_are_never_valid_unless_inert(corpus, change):
    pdf, trust, ranges = corpus
    mutated, touched = mutate(pdf, change)
    started = time.monotonic()
    report = verify(mutated, trust, None, limits=BUDGET)  # must not raise
    assert time.monotonic() - started < BUDGET.seconds + 2
    if report.document.value == "authentic" or report.verdict is Verdict.VALID:
        assert mutated == pdf or inert(touched, ranges), (change, report.summary())
