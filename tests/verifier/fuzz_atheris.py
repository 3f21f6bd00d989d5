"""Coverage-guided fuzzing of ``verify`` with atheris (libFuzzer), beside the hypothesis suite.

Optional: ``make fuzz-atheris`` installs atheris (the ``fuzz`` extra) and runs
``FUZZ_EXAMPLES`` inputs (default 20,000), starting from one genuine B-LTA
certificate. The oracle is ``test_fuzz.check_mutation``: ``verify`` never
raises, finishes within its budget, and calls a file authentic only when every
changed byte lies in inert ranges (``/Contents`` zero padding, the final
DSS-only revision). libFuzzer writes any failing input to ``crash-*`` files.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> None:
    import atheris

    from tests.verifier.test_fuzz import check_mutation, genuine_certificate, inert_ranges

    folder = Path(tempfile.mkdtemp(prefix="accredit-fuzz-"))
    pdf, trust = genuine_certificate(folder / "instance")
    ranges = inert_ranges(pdf)
    seeds = folder / "corpus"
    seeds.mkdir()
    (seeds / "genuine.pdf").write_bytes(pdf)
    atheris.instrument_all()

    def one_input(data: bytes) -> None:
        check_mutation(pdf, trust, ranges, data)

    atheris.Setup(
        [
            argv[0],
            f"-max_len={2 * len(pdf)}",
            "-timeout=0",  # the verifier enforces its own budget (SIGALRM)
            "-rss_limit_mb=4096",
            *argv[1:],
            str(seeds),
        ],
        one_input,
    )
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
