"""Measurement behind the dedup thresholds (docs/dedup.md): similarities of planted duplicates vs distinct calls.

    .venv/bin/python bench/dedup_thresholds.py [--seeds 5] [--no-semantic]

On the domain packs' exemplars (tests/support/dedup_corpus.py), prints for each shingle type the exact Jaccard of
word-edited copies (5 %, 10 %, 20 %), paraphrases and structural clones against their original, and of
distinct calls (same scenario; same domain), as min / median / max; then the content-word Jaccard the flow
rule's guard uses, and (unless --no-semantic) the cosine of the call embeddings.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.dedup_corpus import (  # noqa: E402
    exemplar_records,
    paraphrase,
    same_scenario_pairs,
    structural_clone,
    vocabulary,
    word_edits,
)
from transcript_foundry.dedup.transcript_words import call_tokens, content_words, word_shingles  # noqa: E402
from transcript_foundry.domains.domain_pack import load_domain_packs  # noqa: E402


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def row(label: str, values: list[float]) -> str:
    return f"  {label:<28} min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}  (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="edited copies per exemplar and edit rate")
    parser.add_argument("--no-semantic", action="store_true", help="skip the embedding cosines")
    args = parser.parse_args()
    records = exemplar_records(load_domain_packs())
    vocab = vocabulary(records)
    variants: dict[str, list[tuple[dict, dict]]] = {
        f"{int(rate * 100)} % word edits": [
            (r, word_edits(r, rate, seed, vocab)) for r in records for seed in range(args.seeds)
        ]
        for rate in (0.05, 0.10, 0.20)
    }
    variants["paraphrase"] = [(r, paraphrase(r)) for r in records]
    variants["structural clone"] = [(r, structural_clone(r)) for r in records]
    variants["distinct, same scenario"] = same_scenario_pairs(records)
    variants["distinct, same domain"] = [
        (a, b) for a, b in itertools.combinations(records, 2) if a["domain"] == b["domain"]
    ]
    print(f"{len(records)} exemplars; {args.seeds} seeds per edit rate")
    measures: dict[str, Callable[[dict], set]] = {
        f"word {n}-grams": (lambda r, n=n: word_shingles(call_tokens(r["turns"]), n)) for n in (1, 2, 3, 4, 5)
    }
    measures["content words (flow guard)"] = lambda r: content_words(call_tokens(r["turns"]))
    for name, shingle in measures.items():
        print(f"\nJaccard, {name}:")
        for label, pairs in variants.items():
            print(row(label, [jaccard(shingle(a), shingle(b)) for a, b in pairs]))
    if args.no_semantic:
        return
    import numpy as np

    from transcript_foundry.dedup.call_embeddings import embed_calls
    from transcript_foundry.dedup.embedding_model import load_model, resolve_model_dir

    model = load_model(resolve_model_dir())
    print("\nCosine, all-MiniLM-L6-v2 call embeddings (chunked mean):")
    for label, pairs in variants.items():
        left = embed_calls(model, [a["turns"] for a, _ in pairs])
        right = embed_calls(model, [b["turns"] for _, b in pairs])
        print(row(label, list(np.sum(left * right, axis=1).astype(float))))


if __name__ == "__main__":
    main()
