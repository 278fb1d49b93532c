"""Write the embedded model's raw first drafts as packaged reference data for the discriminator.

Reads the ``raw_transcripts`` shards (what the generator wrote before any scrubbing, scoring or rewrite)
of a TRANSCRIPTS_HOME store, keeps round-0 drafts, and writes them as output-contract records with a
``split`` field: every other draft (sorted by id) is ``heldout``, the rest ``train``. Training may use the
``train`` drafts as negatives; the benchmark measures on the ``heldout`` ones only.

    PYTHONPATH=. python tools/export_embedded_drafts.py STORE_HOME [--out PATH]

The drafts in the package came from `transcripts generate` on the embedded model (gemma3-270m-q4_k_m),
requests "Generate N <domain> transcripts with <tone> callers", --budget-factor 1.0.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transcript_foundry.quality.coherence.reference_calls import DRAFTS_FILE


def _field(value: Any) -> Any:
    """A nested field as stored: a dict/list, or its JSON / Python-literal text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return ast.literal_eval(value)


def main(argv: Sequence[str] | None = None) -> int:
    import polars as pl

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("home", type=Path, help="TRANSCRIPTS_HOME of the generating runs")
    parser.add_argument("--out", type=Path, default=DRAFTS_FILE)
    args = parser.parse_args(argv)

    shards = sorted((args.home / "store" / "raw_transcripts").glob("*.parquet"))
    if not shards:
        print(f"no raw_transcripts shards under {args.home}/store", file=sys.stderr)
        return 1
    records: list[dict[str, Any]] = []
    for shard in shards:
        for row in pl.read_parquet(shard).iter_rows(named=True):
            generation = _field(row["generation"]) or {}
            if generation.get("round", 0) != 0:
                continue
            records.append(
                {
                    "id": row["id"],
                    "domain": row["domain"],
                    "scenario": row["scenario"],
                    "emotional_tone": row["emotional_tone"],
                    "company": row["company"],
                    "agent_name": row["agent_name"],
                    "source": f"embedded model raw draft ({generation.get('model', 'unknown model')}, round 0)",
                    "turns": [{"speaker": t["speaker"], "text": t["text"]} for t in _field(row["turns"])],
                }
            )
    records.sort(key=lambda r: r["id"])
    for i, record in enumerate(records):
        record["split"] = "heldout" if i % 2 else "train"
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    print(f"wrote {len(records)} drafts to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
