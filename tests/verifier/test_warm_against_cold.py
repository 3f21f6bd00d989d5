"""No speed-up changes a report: every recorded document, verified cold and warm, alike.

This module runs last in the package (by name), over the documents the attack
suite, the reason-code tests and the fuzzer verified before it (see
``conftest.RECORDED``). Cold is the libraries' own code with nothing memoised;
warm is the speed-ups on, twice, the second time from the memo. The status
source is left out: the speed-ups touch only what the document proves.
"""

from __future__ import annotations

from dataclasses import replace

from verifier import speedups

from .conftest import REAL_VERIFY, RECORDED


def test_every_recorded_document_gets_the_same_report_cold_and_warm():
    assert len(RECORDED) >= 1, "run with the rest of tests/verifier: nothing was recorded"
    differences = []
    for item in RECORDED.values():
        limits = replace(item.limits, seconds=120.0)  # a slow cold run is not a different answer
        speedups.disable()
        cold = REAL_VERIFY(item.pdf, item.trust, now=item.now, limits=limits).as_json()
        assert speedups.enable()
        warm = [
            REAL_VERIFY(item.pdf, item.trust, now=item.now, limits=limits).as_json() for _ in "12"
        ]
        if not cold == warm[0] == warm[1]:
            differences.append(item.module)
    assert not differences, f"{len(differences)} of {len(RECORDED)} reports differ: {differences}"
    print(f"\n{len(RECORDED)} documents: cold and warm reports identical")
