"""tools/ensure-venv.sh: the cached virtualenv is shared, the code is not. A second clone beside this one
gets its own .venv on the same cached dependencies, and each clone's `transcripts` and `python` run that
clone's code, whichever clone ran `make` last."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _version(checkout: Path) -> str:
    out = subprocess.run(
        [str(checkout / ".venv" / "bin" / "transcripts"), "--version"],
        capture_output=True, text=True, timeout=120, check=True, cwd="/",
    )  # fmt: skip
    return out.stdout.strip()


def _module_file(checkout: Path) -> str:
    out = subprocess.run(
        [str(checkout / ".venv" / "bin" / "python"), "-c", "import transcript_foundry; print(transcript_foundry.__file__)"],
        capture_output=True, text=True, timeout=120, check=True, cwd="/",
    )  # fmt: skip
    return out.stdout.strip()


@pytest.mark.slow
def test_two_clones_side_by_side_each_run_their_own_code(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--local", str(ROOT), str(clone)], check=True, timeout=300)
    init = clone / "transcript_foundry" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8").replace('"0.1.0"', '"9.9.9+clone"'), encoding="utf-8")
    subprocess.run(["bash", "tools/ensure-venv.sh"], cwd=clone, check=True, timeout=1800, capture_output=True)
    subprocess.run(["bash", "tools/ensure-venv.sh"], cwd=ROOT, check=True, timeout=1800, capture_output=True)
    subprocess.run(["bash", "tools/ensure-venv.sh"], cwd=clone, check=True, timeout=1800, capture_output=True)
    assert _version(clone) == "transcripts, version 9.9.9+clone"
    assert _version(ROOT) != "transcripts, version 9.9.9+clone"
    assert _module_file(clone) == str(clone.resolve() / "transcript_foundry" / "__init__.py")
    assert _module_file(ROOT) == str(ROOT / "transcript_foundry" / "__init__.py")
    # The same dependencies: both point at one cached virtualenv.
    assert (clone / ".venv" / ".base").read_text() == (ROOT / ".venv" / ".base").read_text()
