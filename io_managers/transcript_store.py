"""The transcript store: asset values (lists of transcript records) as Parquet files via polars.

``<base_dir>/<asset>/<partition>.parquet`` for partitioned assets, ``<base_dir>/<asset>.parquet``
otherwise. ``base_dir`` is any UPath (a local folder by default; s3://, gs:// ... with fsspec installed).
Nested fields (turns) are Parquet lists of structs; free-form metadata (quality, generation, phi) is JSON text.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import polars as pl
from dagster import ConfigurableIOManagerFactory, InputContext, OutputContext, UPathIOManager
from upath import UPath

from transcript_foundry.contract.transcript import Transcript, Turn


def _is_text(annotation: Any) -> bool:
    """str, a Literal of strings, or either of them or None."""
    if annotation is str:
        return True
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Literal:
        return all(isinstance(a, str) for a in args)
    return get_origin(annotation) in (Union, UnionType) and len(args) == 1 and _is_text(args[0])


# The columns, derived from the output contract (transcript_foundry/contract/transcript.py): text fields are
# text columns, turns a list of structs of the Turn's text fields, anything else (quality, generation, phi)
# JSON text.
_TURN_FIELDS = tuple(Turn.model_fields)
_TURN = pl.Struct({name: pl.Utf8 for name in _TURN_FIELDS})
_JSON_COLUMNS = tuple(
    name for name, f in Transcript.model_fields.items() if name != "turns" and not _is_text(f.annotation)
)
_OPTIONAL_COLUMNS = ("phi",)  # absent from a record that never had it (a transcript not yet scrubbed)
SCHEMA: dict[str, pl.DataType] = {
    name: pl.List(_TURN) if name == "turns" else pl.Utf8() for name in Transcript.model_fields
}


def records_to_frame(records: list[dict[str, Any]]) -> pl.DataFrame:
    rows = []
    for r in records:
        row = {k: r.get(k) for k in SCHEMA}
        row["turns"] = [{k: t.get(k) for k in _TURN_FIELDS} for t in r["turns"]]
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


class StoreFullError(OSError):
    """The transcript store's disk is full; nothing half-written is left behind."""


def _disk_full(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) == errno.ENOSPC or "No space left on device" in str(exc)


def write_frame(frame: pl.DataFrame, path: UPath) -> None:
    """Write ``frame`` to ``path`` whole or not at all: into a hidden sibling first, renamed over ``path``
    once complete (atomic on a local disk), so a crash or a full disk never leaves a half-written file.
    The Parquet bytes are made in memory first: polars reports a failed write to a file as a corrupt
    Parquet file, where the plain write says what went wrong (ENOSPC)."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("wb") as fh:
            fh.write(buffer.getbuffer())
        partial.rename(path)
    except Exception as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        if _disk_full(exc):
            raise StoreFullError(
                errno.ENOSPC,
                f"the transcript store is full: no space left on the device holding {path.parent} "
                f"({frame.height} transcript(s) not written to {path.name}); free space there and run the "
                "request again: what was generated is kept in the ledger and is not generated again",
            ) from exc
        raise


class TranscriptParquetIOManager(UPathIOManager):
    extension: str = ".parquet"

    def dump_to_path(self, context: OutputContext, obj: list[dict[str, Any]], path: UPath) -> None:
        write_frame(records_to_frame(obj), path)
        context.add_output_metadata({"rows": len(obj)})

    def load_from_path(self, context: InputContext, path: UPath) -> list[dict[str, Any]]:
        with path.open("rb") as fh:
            return frame_to_records(pl.read_parquet(fh))


class TranscriptStore(ConfigurableIOManagerFactory):
    """Parquet transcript store rooted at ``base_dir``."""

    base_dir: str

    def create_io_manager(self, context) -> TranscriptParquetIOManager:  # type: ignore[no-untyped-def]
        return TranscriptParquetIOManager(base_path=UPath(self.base_dir))
