"""Golden-file helpers for the export tests: the sample of real generated transcripts and the
compare-or-rewrite check (``UPDATE_GOLDEN=1`` rewrites the golden folder instead of comparing)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from transcript_foundry.formats.export_file import ExportFile

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "generated_sample.jsonl"
GOLDEN_ROOT = Path(__file__).resolve().parents[1] / "golden"


def sample_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]


def write(files: list[ExportFile], root: Path) -> list[str]:
    for f in files:
        f.write(root)
    return [f.relative_path for f in files]


def check_golden(files: list[ExportFile], golden: Path) -> None:
    if os.environ.get("UPDATE_GOLDEN") == "1":
        shutil.rmtree(golden, ignore_errors=True)
        write(files, golden)
    expected = sorted(p.relative_to(golden).as_posix() for p in golden.rglob("*") if p.is_file())
    assert sorted(f.relative_path for f in files) == expected, "file set differs (UPDATE_GOLDEN=1 rewrites)"
    for f in files:
        assert (golden / f.relative_path).read_text(encoding="utf-8") == f.content, f.relative_path
