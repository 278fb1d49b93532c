"""Running a probe's helper command (xprintidle, loginctl, pactl) briefly, injectable for tests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

# (argv) -> stdout; raises OSError / subprocess.SubprocessError when the command fails
CommandRunner = Callable[[list[str]], str]
TIMEOUT_S = 3.0


def run_command(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None:
        raise FileNotFoundError(f"{argv[0]} is not installed")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise subprocess.SubprocessError(
            f"{' '.join(argv)} exited {done.returncode}: {' '.join(done.stderr.split())[:200]}"
        )
    return done.stdout
