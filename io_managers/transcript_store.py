"""The transcript store: asset values (lists of transcript records) as Parquet files via polars.

``<base_dir>/<asset>/<partition>.parquet`` for partitioned assets, ``<base_dir>/<asset>.parquet``
otherwise. ``base_dir`` is any UPath (a local folder by default; s3://, gs:// ... with fsspec installed).
Nested fields (turns) are Parquet lists of structs; free-form metadata (quality, generation, phi) is JSON text.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
from dagster import ConfigurableIOManagerFactory, InputContext, OutputContext, UPathIOManager
from upath import UPath

_JSON_COLUMNS = ("quality", "generation", "phi")
_OPTIONAL_COLUMNS = ("phi",)  # absent from a record that never had it (a transcript not yet scrubbed)
_TURN = pl.Struct({"speaker": pl.Utf8, "text": pl.Utf8, "beat": pl.Utf8, "act": pl.Utf8})
SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Utf8(),
    "request_id": pl.Utf8(),
    "domain": pl.Utf8(),
    "scenario": pl.Utf8(),
    "emotional_tone": pl.Utf8(),
    "complexity": pl.Utf8(),
    "caller_type": pl.Utf8(),
    "company": pl.Utf8(),
    "agent_name": pl.Utf8(),
    "turns": pl.List(_TURN),
    "quality": pl.Utf8(),
    "generation": pl.Utf8(),
    "phi": pl.Utf8(),
}


def records_to_frame(records: list[dict[str, Any]]) -> pl.DataFrame:
    rows = []
    for r in records:
        row = {k: r.get(k) for k in SCHEMA}
        row["turns"] = [{k: t.get(k) for k in ("speaker", "text", "beat", "act")} for t in r["turns"]]
        for key in _JSON_COLUMNS:
            row[key] = json.dumps(r[key]) if r.get(key) is not None else None
        rows.append(row)
    return pl.DataFrame(rows, schema=SCHEMA)


def frame_to_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    records = []
    for row in frame.to_dicts():
        for key in _JSON_COLUMNS:
            row[key] = json.loads(row[key]) if row.get(key) else None
        for key in _OPTIONAL_COLUMNS:
            if row.get(key) is None:
                row.pop(key, None)
        records.append(row)
    return records


class TranscriptParquetIOManager(UPathIOManager):
    extension: str = ".parquet"

    def dump_to_path(self, context: OutputContext, obj: list[dict[str, Any]], path: UPath) -> None:
        frame = records_to_frame(obj)
        with path.open("wb") as fh:
            frame.write_parquet(fh)
        context.add_output_metadata({"rows": len(obj)})

    def load_from_path(self, context: InputContext, path: UPath) -> list[dict[str, Any]]:
        with path.open("rb") as fh:
            return frame_to_records(pl.read_parquet(fh))


class TranscriptStore(ConfigurableIOManagerFactory):
    """Parquet transcript store rooted at ``base_dir``."""

    base_dir: str

    def create_io_manager(self, context) -> TranscriptParquetIOManager:  # type: ignore[no-untyped-def]
        return TranscriptParquetIOManager(base_path=UPath(self.base_dir))
