"""The long fuzz run (issue 17 item 1): every fuzz target of tests/support/fuzz_targets.py on 10,000+
random inputs each (the suite runs the same targets on 150 derandomized ones).

    .venv/bin/python bench/fuzz_long.py [--examples 10000] [--seed 17] [--targets request_text,nodes_file]

Each target runs the real reader on hypothesis-generated inputs (valid, near-valid and garbage) and checks
the properties: no unhandled exception, errors that name the file / line / field, valid JobSpecs that
round-trip through YAML and JSON. Prints per target the inputs checked, the time and inputs/s, and the
failure (hypothesis's shrunk reproduction) if there is one; exits 1 when any target fails. ``--seed`` fixes
the inputs, so a failure reproduces.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine_description import describe_machine  # noqa: E402  (bench/, the script's folder)

from tests.support.fuzz_targets import TARGETS, run_target  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=10_000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=17, help="hypothesis seed (the inputs)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated target names")
    args = parser.parse_args()
    names = [n.strip() for n in args.targets.split(",") if n.strip()]
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        parser.error(f"--targets: unknown {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    print(describe_machine("hypothesis"))
    print(f"{args.examples} inputs per target, seed {args.seed}\n")
    print(f"{'target':<22} {'inputs':>8} {'seconds':>8} {'inputs/s':>9}  result")
    failed = 0
    for name in names:
        started = time.perf_counter()
        try:
            seen = run_target(TARGETS[name], args.examples, seed=args.seed)
            result = "ok"
        except Exception:  # the shrunk failing input, printed below
            seen, result = 0, "FAILED"
            failed += 1
            traceback.print_exc(limit=-4)
        seconds = time.perf_counter() - started
        rate = seen / seconds if seconds else 0.0
        print(f"{name:<22} {seen:>8} {seconds:>8.1f} {rate:>9.0f}  {result}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
