"""The packaged reference calls: clean calls for training (``train``) and measurement (``heldout``), and
raw embedded-model drafts for the benchmark (see reference/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

from transcript_foundry.quality.coherence.call_view import CallRecordError, CallView

REFERENCE_DIR = Path(__file__).parent / "reference"
CALLS_FILE = REFERENCE_DIR / "calls.jsonl"
DRAFTS_FILE = REFERENCE_DIR / "embedded_drafts.jsonl"
SPLITS: tuple[str, ...] = ("train", "heldout")


def read_views(path: Path, split: str | None = None) -> list[CallView]:
    """The calls of a JSONL file (only the records of ``split`` when given); a bad line names its number."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"split: {split!r} is not one of {', '.join(SPLITS)}")
    views: list[CallView] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        if split is not None and record.get("split") != split:
            continue
        try:
            views.append(CallView.from_record(record))
        except CallRecordError as exc:
            raise CallRecordError(f"{path.name} line {number}: {exc}") from None
    return views


def reference_calls(split: str | None = None) -> list[CallView]:
    return read_views(CALLS_FILE, split)


def embedded_drafts(split: str | None = None) -> list[CallView]:
    """Raw calls of the embedded model, of ``split`` when given (empty when the file is not packaged)."""
    return read_views(DRAFTS_FILE, split) if DRAFTS_FILE.is_file() else []
