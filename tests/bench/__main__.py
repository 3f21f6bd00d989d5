"""``make bench``: each figure is printed beside a baseline measured in the same run.

Machines here are noisy, so absolute times mean little; ratios against a
baseline taken seconds apart are what the issues' targets are stated in.
"""

from __future__ import annotations

import argparse
import time

from keys.signing import quiet_fetching_notice
from verifier import speedups
from verifier.cli import quiet_library_logs

from . import BENCHMARKS
from . import documents as _documents  # noqa: F401  (registers)
from . import log as _log  # noqa: F401  (registers)
from . import office as _office  # noqa: F401  (registers)
from . import registry as _registry  # noqa: F401  (registers)
from . import signing as _signing  # noqa: F401  (registers)
from . import verification as _verification  # noqa: F401  (registers)


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument(
        "--no-speedups", action="store_true", help="measure the libraries' own code paths"
    )
    args = parser.parse_args()
    chosen = args.names or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(BENCHMARKS)}")
    if not BENCHMARKS:
        print("no benchmarks yet")
    quiet_library_logs()
    quiet_fetching_notice()
    print(f"library speed-ups: {'on' if speedups.enable(not args.no_speedups) else 'off'}")
    for name in chosen:
        started = time.perf_counter()
        print(f"== {name}")
        BENCHMARKS[name](args)
        print(f"   ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
