"""Diversity of a set of calls: distinct-n over all turns and per speaker, self-BLEU, the spread of call
embeddings, near-duplicates, and how many different openings and closings there are.

- distinct-n: unique n-grams / all n-grams (n-grams within a turn), 1 = no n-gram repeats anywhere.
- self-BLEU: the mean over calls of BLEU-4 (uniform weights, clipped counts, brevity penalty against the
  closest other call's length, +1 smoothing for n > 1) of a call against all the other calls as
  references. 0 = calls share no phrasing; 1 = every call is a copy of another.
- embedding spread: 1 - the mean cosine similarity of distinct pairs of call embeddings (MiniLM, the model
  dedup uses); 0 = all calls mean the same thing. Near-duplicate share: calls whose nearest other call has
  cosine >= ``NEAR_DUPLICATE_COSINE``.
- openings / closings: the first five words of the first turn and of the last turn, digits as #.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from transcript_foundry.report.call_text import turns_of, words

NEAR_DUPLICATE_COSINE = 0.95
BLEU_ORDER = 4
FRAME_WORDS = 5

CallEmbedder = Callable[[Sequence[Sequence[Mapping[str, Any]]]], np.ndarray]


def _ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(turn_tokens: Sequence[Sequence[str]], n: int) -> float:
    grams = [g for tokens in turn_tokens for g in _ngrams(tokens, n)]
    return round(len(set(grams)) / len(grams), 4) if grams else 0.0


def self_bleu(call_tokens: Sequence[Sequence[str]], order: int = BLEU_ORDER) -> float | None:
    """Mean BLEU of each call against all others. Clipping uses, per n-gram, the largest count in any
    *other* call: the two largest counts and the owner of the largest are kept, so it is linear in size."""
    if len(call_tokens) < 2:
        return None
    counts = [[Counter(_ngrams(tokens, n)) for n in range(1, order + 1)] for tokens in call_tokens]
    best: list[dict[tuple[str, ...], tuple[int, int, int]]] = []  # gram -> (max, owner, second max)
    for n in range(order):
        table: dict[tuple[str, ...], tuple[int, int, int]] = {}
        for owner, per_n in enumerate(counts):
            for gram, c in per_n[n].items():
                top, who, second = table.get(gram, (0, -1, 0))
                if c > top:
                    table[gram] = (c, owner, top)
                elif c > second:
                    table[gram] = (top, who, c)
        best.append(table)
    lengths = [len(t) for t in call_tokens]
    scores = []
    for i, tokens in enumerate(call_tokens):
        if not tokens:
            continue
        log_precision = 0.0
        for n in range(order):
            total = max(len(tokens) - n, 0)
            clipped = 0
            for gram, c in counts[i][n].items():
                top, who, second = best[n][gram]
                clipped += min(c, second if who == i else top)
            smooth = 0 if n == 0 else 1
            if clipped + smooth == 0 or total + smooth == 0:
                log_precision = -math.inf
                break
            log_precision += math.log((clipped + smooth) / (total + smooth)) / order
        others = [length for j, length in enumerate(lengths) if j != i]
        closest = min(others, key=lambda r: (abs(r - len(tokens)), r))
        brevity = 1.0 if len(tokens) > closest else math.exp(1 - closest / max(len(tokens), 1))
        scores.append(brevity * math.exp(log_precision) if log_precision > -math.inf else 0.0)
    return round(float(np.mean(scores)), 4) if scores else None


def _frame(text: str) -> str:
    return " ".join(re.sub(r"\d", "#", w) for w in words(text)[:FRAME_WORDS])


@dataclass(frozen=True)
class EmbeddingSpread:
    spread: float | None  # 1 - mean pairwise cosine
    near_duplicate_share: float | None


def embedding_spread(vectors: np.ndarray) -> EmbeddingSpread:
    if len(vectors) < 2 or vectors.ndim != 2 or vectors.shape[1] == 0:
        return EmbeddingSpread(None, None)
    sims = vectors @ vectors.T
    n = len(vectors)
    mean_pair = (float(sims.sum()) - float(np.trace(sims))) / (n * (n - 1))
    np.fill_diagonal(sims, -1.0)
    nearest = sims.max(axis=1)
    share = float((nearest >= NEAR_DUPLICATE_COSINE).mean())
    return EmbeddingSpread(round(max(0.0, 1 - mean_pair), 4), round(share, 4))


def diversity(records: Sequence[Mapping[str, Any]], embed_calls: CallEmbedder | None) -> dict[str, Any]:
    per_turn = [(who, words(text)) for r in records for who, text in turns_of(r)]
    all_tokens = [tokens for _, tokens in per_turn]
    by_speaker = {
        who: {f"distinct_{n}": distinct_n([t for w, t in per_turn if w == who], n) for n in (1, 2, 3)}
        for who in sorted({w for w, _ in per_turn})
    }
    calls = [[w for _, text in turns_of(r) for w in words(text)] for r in records]
    openings = Counter(_frame(turns[0][1]) for r in records if (turns := turns_of(r)))
    closings = Counter(_frame(turns[-1][1]) for r in records if (turns := turns_of(r)))
    spread = (
        embedding_spread(embed_calls([r.get("turns", []) for r in records]))
        if embed_calls and len(records) >= 2
        else None
    )
    return {
        **{f"distinct_{n}": distinct_n(all_tokens, n) for n in (1, 2, 3)},
        "by_speaker": by_speaker,
        "self_bleu": self_bleu(calls),
        "embedding_spread": spread.spread if spread else None,
        "near_duplicate_share": spread.near_duplicate_share if spread else None,
        "distinct_openings": len(openings),
        "distinct_closings": len(closings),
        "top_openings": openings.most_common(5),
        "top_closings": closings.most_common(5),
    }
