"""custom_json_export: the library as JSON Lines, one file per request and one for the whole library.

Each line is one transcript in the output contract's record shape. A request's files hold its first
``count`` accepted transcripts (library order); any surplus a last shard produced stays in the library.
A request generated with ``--out DIR`` gets its file at ``DIR/exports/custom_json/transcripts.jsonl``; every request also gets
``<exports>/custom_json/<request_id>.jsonl`` and the library ``<exports>/custom_json/library.jsonl``.
"""

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from resources.ledger import Ledger
from resources.settings import project_paths


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    """Write atomically: a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    with partial.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    partial.replace(path)


def request_export_path(out_dir: str | None, exports_dir: Path, request_id: str) -> list[Path]:
    paths = [exports_dir / "custom_json" / f"{request_id}.jsonl"]
    if out_dir:
        paths.append(Path(out_dir) / "exports" / "custom_json" / "transcripts.jsonl")
    return paths


@asset(
    group_name="exports",
    kinds={"json"},
    owners=["team:transcript-foundry"],
    description="JSON Lines export of the transcript library (the output contract's record shape).",
)
def custom_json_export(
    context: AssetExecutionContext, transcript_library: list[dict[str, Any]], ledger: Ledger
) -> MaterializeResult:
    exports_dir = project_paths().exports_dir
    by_request: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in transcript_library:
        by_request[record["request_id"]].append(record)
    written: list[str] = []
    write_jsonl(exports_dir / "custom_json" / "library.jsonl", transcript_library)
    written.append(str(exports_dir / "custom_json" / "library.jsonl"))
    for request_id, records in by_request.items():
        request = ledger.get_request(request_id)
        # A request delivers its first `count` accepted transcripts; any surplus stays in library.jsonl.
        for path in request_export_path(request.out_dir, exports_dir, request_id):
            write_jsonl(path, records[: request.count])
            written.append(str(path))
    return MaterializeResult(
        metadata={
            "transcripts": len(transcript_library),
            "requests": len(by_request),
            "files": MetadataValue.json(written),
            "library_path": MetadataValue.path(str(exports_dir / "custom_json" / "library.jsonl")),
        }
    )
