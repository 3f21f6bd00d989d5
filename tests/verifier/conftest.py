"""The verifier's tests run with the library speed-ups on, as a deployment runs them.

Importing the verifier no longer installs them, so this does: the attack suite
and the fuzzer then exercise the replacements (the hex-string reader, the
signature memo) against hostile documents, as they did before.
``test_speedups`` turns them off where it proves that both ways answer alike.

Every document the suite verifies is also recorded (``RECORDED``), so that
``test_warm_against_cold`` can verify each again with the speed-ups off and
on, and prove the reports equal. ``COLD_WARM=all`` records every document
(``make speedups-proof``); by default a sample of each test module.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from verifier import policy, speedups
from verifier.evidence import Limits
from verifier.report import Report
from verifier.sources import TrustBundle

#: Documents per test module kept for the cold/warm comparison (all with COLD_WARM=all).
SAMPLE = None if os.environ.get("COLD_WARM") == "all" else 40


@dataclass(frozen=True)
class Recorded:
    pdf: bytes
    trust: TrustBundle
    now: datetime
    limits: Limits
    module: str


RECORDED: dict[tuple[str, int], Recorded] = {}
_per_module: dict[str, int] = {}
REAL_VERIFY = policy.verify


def _recording_verify(pdf: bytes, trust: TrustBundle, status: Any = None, **kwargs: Any) -> Report:
    """The real ``verify``, with each distinct document kept for the comparison."""
    now = kwargs.pop("now", None) or datetime.now(UTC)
    test = os.environ.get("PYTEST_CURRENT_TEST", "unknown").split("::")[0]
    key = (hashlib.sha256(pdf).hexdigest(), id(trust))
    if key not in RECORDED and (SAMPLE is None or _per_module.get(test, 0) < SAMPLE):
        _per_module[test] = _per_module.get(test, 0) + 1
        RECORDED[key] = Recorded(pdf, trust, now, kwargs.get("limits") or Limits(), test)
    return REAL_VERIFY(pdf, trust, status, now=now, **kwargs)


# Installed before the test modules import ``verify`` (conftest is imported first).
policy.verify = _recording_verify  # type: ignore[assignment]


@pytest.fixture(scope="package", autouse=True)
def library_speedups() -> Iterator[None]:
    was = speedups.active()
    assert speedups.enable(), "the installed pyHanko or asn1crypto is not a proven version"
    yield
    if not was:
        speedups.disable()
