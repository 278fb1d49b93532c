"""How long the `transcripts` commands take to start (issue: `--help` and `plan` under 0.5 s on 2 cores).

    .venv/bin/python bench/cli_startup.py [--rounds 5]

Each command runs as a fresh process, as a user runs it; the table gives the median and the best of the
rounds, and, side by side, `python -c "import dagster"` (what every command paid before the CLI loaded its
commands lazily).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from machine_description import describe_machine  # noqa: E402  (bench/, the script's folder)

TRANSCRIPTS = str(ROOT / ".venv" / "bin" / "transcripts")
COMMANDS = {
    "transcripts --help": [TRANSCRIPTS, "--help"],
    "transcripts plan …": [TRANSCRIPTS, "plan", "Generate 50 healthcare transcripts with frustrated callers"],
    "transcripts domains": [TRANSCRIPTS, "domains"],
    "transcripts agent --help": [TRANSCRIPTS, "agent", "--help"],
    "python -c 'import dagster' (for contrast)": [sys.executable, "-c", "import dagster"],
}


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(describe_machine("click", "dagster"))
    print(f"| command | median s | best s | (rounds: {args.rounds}) |")
    print("|---|---:|---:|---|")
    for name, argv in COMMANDS.items():
        timed(argv)  # warm the page cache
        times = [timed(argv) for _ in range(args.rounds)]
        print(f"| {name} | {statistics.median(times):.3f} | {min(times):.3f} | |")


if __name__ == "__main__":
    main()
