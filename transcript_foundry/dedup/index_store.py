"""The dedup index on disk: a manifest and append-only segments of Parquet and NumPy files.

``<folder>/manifest.json`` names the layout (rules stored, MinHash permutations and shingle size, embedding
model); each ``<folder>/seg-<first row>/`` holds the rows one run added: ``entries.parquet`` (id, content
hash, flow skeleton and its hash), ``text_minhash.npy`` and ``content_minhash.npy`` (uint32 signatures),
``embeddings.npy`` (float32, unit rows). A run writes only its new rows, into a folder renamed into place
when complete, so a reader never sees half a segment and an incremental run costs O(new) writes.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from transcript_foundry.dedup.dedup_config import DedupConfig
from transcript_foundry.dedup.dedup_index import DedupIndex, Embedder, IndexRows
from transcript_foundry.dedup.flow_skeleton import skeleton_hash

INDEX_FORMAT = 1
_ARRAYS = {
    "text_signatures": "text_minhash.npy",
    "content_signatures": "content_minhash.npy",
    "embeddings": "embeddings.npy",
}


class IndexLayoutChanged(RuntimeError):
    """The stored index was built with other rules or parameters; it has to be rebuilt."""


def index_layout(config: DedupConfig, embedding_model: str | None) -> dict[str, Any]:
    return {
        "format": INDEX_FORMAT,
        "rules": list(config.rules),
        "minhash_num_perm": config.minhash_num_perm if {"minhash", "flow"} & set(config.rules) else None,
        "minhash_shingle_words": config.minhash_shingle_words if "minhash" in config.rules else None,
        "embedding_model": embedding_model if "semantic" in config.rules else None,
    }


def load_index(
    folder: Path, config: DedupConfig, embedder: Embedder | None, embedding_model: str | None
) -> DedupIndex:
    """The stored index (empty when there is none yet); IndexLayoutChanged when it no longer fits config."""
    index = DedupIndex(config, embedder)
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return index
    stored = json.loads(manifest.read_text(encoding="utf-8"))["layout"]
    wanted = index_layout(config, embedding_model)
    if stored != wanted:
        changed = sorted(k for k in wanted if stored.get(k) != wanted[k])
        raise IndexLayoutChanged(f"the stored dedup index was built with other {', '.join(changed)}")
    for segment in sorted(folder.glob("seg-*")):
        index.extend(_read_segment(segment))
    return index


def _read_segment(segment: Path) -> IndexRows:
    entries = pl.read_parquet(segment / "entries.parquet")
    arrays = {
        name: np.load(segment / file) if (segment / file).exists() else None for name, file in _ARRAYS.items()
    }
    return IndexRows(
        ids=entries["id"].to_list(),
        hashes=entries["content_hash"].to_list(),
        skeletons=entries["skeleton"].to_list(),
        **arrays,
    )


def save_rows(folder: Path, index: DedupIndex, start: int, embedding_model: str | None) -> Path | None:
    """Write index rows ``start:`` as a new segment (and the manifest); None when there are none."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_manifest(folder, index.config, embedding_model)
    rows = index.rows(start)
    if not len(rows):
        return None
    final = folder / f"seg-{start:010d}"
    partial = folder / f".partial-{final.name}-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    _write_segment(partial, rows)
    if final.exists():  # a crashed run wrote these rows but the ledger never heard: replace them
        shutil.rmtree(final)
    partial.rename(final)
    return final


def _write_segment(folder: Path, rows: IndexRows) -> None:
    pl.DataFrame(
        {
            "id": rows.ids,
            "content_hash": rows.hashes,
            "skeleton": rows.skeletons,
            "skeleton_hash": [skeleton_hash(s) for s in rows.skeletons],
        },
        schema={"id": pl.Utf8, "content_hash": pl.Utf8, "skeleton": pl.Utf8, "skeleton_hash": pl.Utf8},
    ).write_parquet(folder / "entries.parquet")
    for name, file in _ARRAYS.items():
        array = getattr(rows, name)
        if array is not None:
            np.save(folder / file, array)


def _write_manifest(folder: Path, config: DedupConfig, embedding_model: str | None) -> None:
    manifest = folder / "manifest.json"
    body = {"layout": index_layout(config, embedding_model), "note": "see docs/dedup.md"}
    partial = folder / f".manifest.json.partial-{os.getpid()}"
    partial.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    partial.replace(manifest)


def clear_index(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def compact_index(folder: Path) -> tuple[int, int]:
    """Merge the index's segments into one (rows in the same order); (segments before, rows).

    Each library run appends a segment, so a long-lived library loads hundreds of small files; the merged
    segment is written aside and renamed into place under the first segment's name, then the others go.
    Segments a library fold appends meanwhile are not touched (only the ones read here go), but a fold that
    loads the index during the swap may miss rows: the schedule runs it weekly at night, when none runs."""
    segments = sorted(folder.glob("seg-*"))
    if len(segments) <= 1:
        return len(segments), sum(len(_read_segment(s).ids) for s in segments)
    parts = [_read_segment(s) for s in segments]
    merged = IndexRows(
        ids=[i for p in parts for i in p.ids],
        hashes=[h for p in parts for h in p.hashes],
        skeletons=[k for p in parts for k in p.skeletons],
        **{
            name: np.concatenate([getattr(p, name) for p in parts])
            if all(getattr(p, name) is not None for p in parts)
            else None
            for name in _ARRAYS
        },
    )
    partial = folder / f".partial-compact-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    _write_segment(partial, merged)
    first = segments[0]
    retired = folder / f".retired-{first.name}-{os.getpid()}"
    first.rename(retired)
    partial.rename(first)
    shutil.rmtree(retired)
    for segment in segments[1:]:
        shutil.rmtree(segment)
    return len(segments), len(merged.ids)
