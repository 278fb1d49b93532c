"""Reading a transcripts.jsonl file in the output contract, with errors that name the line and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from transcript_foundry.contract.transcript import Transcript


class TranscriptFileError(ValueError):
    """The file is not JSON Lines of output-contract transcripts; the message names line and field."""


def read_transcripts(path: Path) -> list[dict[str, Any]]:
    """Each line validated as a Transcript; the original dicts are returned (extra keys such as phi kept)."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}: line {number}: not JSON ({exc.msg})")
            continue
        try:
            Transcript.model_validate({k: v for k, v in record.items() if k != "phi"})
        except ValidationError as exc:
            for e in exc.errors()[:3]:
                field = ".".join(str(p) for p in e["loc"])
                problems.append(f"{path}: line {number}: {field}: {e['msg']}")
            continue
        records.append(record)
    if problems:
        raise TranscriptFileError(
            "not a transcripts file in the output contract (see the README):\n  " + "\n  ".join(problems[:20])
        )
    if not records:
        raise TranscriptFileError(f"{path} holds no transcripts")
    return records
