"""Realism against real speech: generated customer turns beside real customer utterances (by default the
DSTC11 customer turns shipped in ``reference/dstc11``, CDLA-Permissive-2.0, used only as a yardstick).

- length: words per turn, both sides' quartiles and the two-sample Kolmogorov-Smirnov statistic (0 = the
  same distribution, 1 = disjoint);
- style: fillers per 100 words, disfluencies (a word said twice in a row, a cut-off "wh-", "I mean"), turns
  that start in lower case, turns without final punctuation;
- vocabulary: the share of generated word tokens that real callers use too, and the Jaccard overlap of
  the two vocabularies;
- a classifier two-sample test: logistic regression on MiniLM sentence embeddings, balanced classes,
  5-fold cross-validated ROC AUC of telling generated from real. 0.5 = indistinguishable, 1.0 = always told
  apart. Reference lines never leave this module: only statistics do.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from transcript_foundry.report.call_text import words

REFERENCE_DIR = Path(__file__).parent / "reference" / "dstc11"
CLASSIFIER_SAMPLE = 400  # turns per side for the classifier (embedding cost)
MIN_CLASSIFIER_TURNS = 20
FILLERS = (
    "um",
    "uh",
    "uhm",
    "erm",
    "hmm",
    "like",
    "you know",
    "i mean",
    "well",
    "so",
    "actually",
    "okay",
    "yeah",
)
_DISFLUENCY = re.compile(r"\b(\w+)\s+\1\b|\b\w+-(?=\s)|\bi mean\b", re.IGNORECASE)

Encoder = Callable[[Sequence[str]], np.ndarray]


class ReferenceError(ValueError):
    """A reference file is missing or has no utterances; the message names the file and the fix."""


def load_reference(path: Path | None = None) -> list[str]:
    """Utterances from a JSONL file (``utterance`` or ``text`` per line), a plain text file (one per line),
    or a folder of such files; default: the shipped DSTC11 customer turns."""
    paths = sorted((path or REFERENCE_DIR).glob("*.jsonl")) if (path or REFERENCE_DIR).is_dir() else [path]
    lines: list[str] = []
    for file in paths:
        assert file is not None
        if not file.exists():
            raise ReferenceError(
                f"--reference: {file} does not exist (give a JSONL or text file of utterances)"
            )
        for number, raw in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip():
                continue
            if file.suffix == ".jsonl":
                try:
                    item = json.loads(raw)
                except json.JSONDecodeError as e:
                    raise ReferenceError(f"{file}:{number}: not JSON ({e.msg}); one object per line") from e
                text = item.get("utterance", item.get("text")) if isinstance(item, dict) else None
                if not isinstance(text, str):
                    raise ReferenceError(f"{file}:{number}: needs an 'utterance' or 'text' string field")
                lines.append(text)
            else:
                lines.append(raw.strip())
    if not lines:
        raise ReferenceError(f"--reference: no utterances in {path or REFERENCE_DIR}")
    return lines


def _quartiles(values: Sequence[int]) -> list[float]:
    return [round(float(q), 1) for q in np.percentile(values, [25, 50, 75])] if values else []


def style(turns: Sequence[str]) -> dict[str, float]:
    tokens = [words(t) for t in turns]
    total = sum(len(t) for t in tokens) or 1
    fillers = 0
    for t in turns:
        lowered = " " + " ".join(words(t)) + " "
        fillers += sum(lowered.count(f" {f} ") for f in FILLERS)
    n = len(turns) or 1
    return {
        "fillers_per_100_words": round(100 * fillers / total, 2),
        "disfluent_turns": round(sum(bool(_DISFLUENCY.search(t)) for t in turns) / n, 4),
        "lowercase_start": round(sum(t.strip()[:1].islower() for t in turns) / n, 4),
        "no_final_punctuation": round(sum(not t.strip().endswith((".", "?", "!")) for t in turns) / n, 4),
    }


def ks_statistic(a: Sequence[int], b: Sequence[int]) -> tuple[float, float]:
    from scipy.stats import ks_2samp

    result = ks_2samp(a, b)
    return round(float(result.statistic), 4), float(result.pvalue)


def classifier_auc(
    generated: Sequence[str], real: Sequence[str], encode: Encoder, seed: int = 0
) -> float | None:
    """Cross-validated ROC AUC of logistic regression telling generated from real turns (balanced)."""
    size = min(len(generated), len(real), CLASSIFIER_SAMPLE)
    if size < MIN_CLASSIFIER_TURNS:
        return None
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    rng = np.random.default_rng(seed)
    pick_g = rng.choice(len(generated), size, replace=False)
    pick_r = rng.choice(len(real), size, replace=False)
    x = encode([generated[i] for i in pick_g] + [real[i] for i in pick_r])
    y = np.array([1] * size + [0] * size)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    scores = cross_val_score(LogisticRegression(max_iter=1000, C=1.0), x, y, cv=folds, scoring="roc_auc")
    return round(float(scores.mean()), 4)


def realism(generated: Sequence[str], real: Sequence[str], encode: Encoder | None) -> dict[str, Any]:
    if not generated:
        return {"customer_turns": 0, "note": "no customer turns to compare"}
    gen_len = [len(words(t)) for t in generated]
    real_len = [len(words(t)) for t in real]
    statistic, p_value = ks_statistic(gen_len, real_len)
    gen_vocab = Counter(w for t in generated for w in words(t))
    real_vocab = {w for t in real for w in words(t)}
    known = sum(c for w, c in gen_vocab.items() if w in real_vocab)
    return {
        "customer_turns": len(generated),
        "reference_utterances": len(real),
        "length": {
            "generated_quartiles": _quartiles(gen_len),
            "reference_quartiles": _quartiles(real_len),
            "ks_statistic": statistic,
            "ks_p_value": p_value,
            "generated": gen_len,
            "reference": real_len,
        },
        "style": {"generated": style(generated), "reference": style(real)},
        "vocabulary": {
            "generated_tokens_in_reference_vocabulary": round(known / max(sum(gen_vocab.values()), 1), 4),
            "jaccard": round(len(set(gen_vocab) & real_vocab) / max(len(set(gen_vocab) | real_vocab), 1), 4),
        },
        "classifier_auc": classifier_auc(generated, real, encode) if encode else None,
    }
