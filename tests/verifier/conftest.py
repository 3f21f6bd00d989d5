"""The verifier's tests run with the library speed-ups on, as a deployment runs them.

Importing the verifier no longer installs them, so this does: the attack suite
and the fuzzer then exercise the replacements (the hex-string reader, the
signature memo) against hostile documents, as they did before.
``test_speedups`` turns them off where it proves that both ways answer alike.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from verifier import speedups


@pytest.fixture(scope="package", autouse=True)
def library_speedups() -> Iterator[None]:
    was = speedups.active()
    assert speedups.enable(), "the installed pyHanko or asn1crypto is not a proven version"
    yield
    if not was:
        speedups.disable()
