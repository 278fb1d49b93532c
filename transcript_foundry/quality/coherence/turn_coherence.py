"""Turn-to-turn coherence from sentence embeddings: does each reply relate to what it answers, do the two
halves talk about the same thing, does each line read like its speaker's, is the order plausible.

All turns of a call are embedded once (``emb``: one L2-normalised row per turn); every signal is computed
from the cosine-similarity matrix and two small linear heads learned on the reference calls' train split
(``TurnHeads``: speaker from embedding, relative position from embedding).

Signals (higher = more coherent):

- ``adjacent_sim``: mean similarity of each turn to the turn before it;
- ``locality_margin``: mean of (similarity to the previous turn - mean similarity to turns 3+ away);
- ``reply_min``: the weakest reply: min over turns of (similarity to the previous turn - mean similarity to
  the other turns);
- ``topic_split_min``: min over middle cut points of the similarity between the two halves' centroids;
- ``role_centroid_sim``: similarity of the agent turns' centroid to the caller turns' centroid;
- ``role_fit`` / ``role_worst``: mean / min log-probability of each turn's own speaker under the role head;
- ``order_fit``: Spearman correlation of the position head's prediction with the real turn order;
- ``opening_relevance``: mean similarity of the second half's turns to the caller's first turn (the call
  is still about what the caller rang about);
- ``vocabulary_continuity``: min over middle cut points of the share of the later part's content words
  already used before the cut (a call spliced from two keeps few).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.findings import Finding

TURN_SIGNALS: tuple[str, ...] = (
    "adjacent_sim",
    "locality_margin",
    "reply_min",
    "topic_split_min",
    "role_centroid_sim",
    "role_fit",
    "role_worst",
    "order_fit",
    "opening_relevance",
    "vocabulary_continuity",
)
ROLE_MISMATCH_P = 0.03  # a turn whose own speaker gets less than this reads like the other side's line
UNRELATED_SIM = 0.05  # a reply less similar than this to the turn it answers ...
UNRELATED_MARGIN = -0.08  # ... and this much less than to the rest of the call relates to nothing said
_LOG_FLOOR = -12.0


_STOPWORDS_TEXT = """the a an and or but to of in on for with at by from is are was were be been it this that i you we they
    he she my your our their me us them so if as not no yes do does did have has had can could would will i'm
    you're it's that's there here what when how just okay ok thanks thank please about up out all any one get
    got like let know well right sure also then now that'll i'll i've we'll you'll don't didn't can't won't
    into over again very much really going want need some more time today this these those than them"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z'-]+", text.lower()) if len(w) > 3 and w not in _STOPWORDS}


@dataclass(frozen=True)
class TurnHeads:
    """Two linear heads over a turn embedding: P(AGENT) = sigmoid(role_w . e + role_b); relative position
    (0 = first turn, 1 = last) = pos_w . e + pos_b."""

    role_w: np.ndarray
    role_b: float
    pos_w: np.ndarray
    pos_b: float


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(len(x), dtype=np.float64)
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = _ranks(a), _ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    denom = math.sqrt(float((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / denom) if denom > 0 else 0.0


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


@dataclass(frozen=True)
class TurnSignals:
    """``values`` by signal name; ``anchors``: the turn where each signal is weakest; soft ``findings``."""

    values: dict[str, float]
    anchors: dict[str, int]
    findings: list[Finding]


def turn_signals(view: CallView, emb: np.ndarray, heads: TurnHeads) -> TurnSignals:
    """The signals of one call (``emb``: its turns' embeddings, in order) and the soft findings behind them."""
    n = len(view.turns)
    if emb.shape[0] != n:
        raise ValueError(f"emb: {emb.shape[0]} rows for {n} turns")
    sims = emb.astype(np.float64) @ emb.astype(np.float64).T
    speakers = view.speakers
    findings: list[Finding] = []

    adjacent = [float(sims[i, i - 1]) for i in range(1, n)]
    locality: list[float] = []
    replies: list[float] = []
    for i in range(1, n):
        far = [sims[i, j] for j in range(n) if abs(i - j) >= 3]
        if far:
            locality.append(float(sims[i, i - 1] - np.mean(far)))
        rest = [sims[i, j] for j in range(n) if j not in (i, i - 1)]
        margin = float(sims[i, i - 1] - np.mean(rest)) if rest else 0.0
        replies.append(margin)
        if sims[i, i - 1] < UNRELATED_SIM and margin < UNRELATED_MARGIN:
            findings.append(
                Finding(
                    "unrelated_reply",
                    i,
                    speakers[i],
                    f"does not relate to turn {i - 1} (similarity {sims[i, i - 1]:.2f})",
                    hard=False,
                )
            )

    cuts = range(max(2, n // 4), min(n - 2, (3 * n) // 4) + 1)
    splits = []
    for k in cuts:
        a, b = emb[:k].mean(axis=0), emb[k:].mean(axis=0)
        splits.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9)))

    agent = emb[[i for i, s in enumerate(speakers) if s == "AGENT"]]
    caller = emb[[i for i, s in enumerate(speakers) if s == "CUSTOMER"]]
    if len(agent) and len(caller):
        ca, cc = agent.mean(axis=0), caller.mean(axis=0)
        centroid = float(ca @ cc / (np.linalg.norm(ca) * np.linalg.norm(cc) + 1e-9))
    else:
        centroid = 0.0

    z = emb.astype(np.float64) @ heads.role_w + heads.role_b
    sign = np.array([1.0 if s == "AGENT" else -1.0 for s in speakers])
    log_own = np.maximum(_log_sigmoid(sign * z), _LOG_FLOOR)
    for i in np.flatnonzero(np.exp(log_own) < ROLE_MISMATCH_P):
        other = "CUSTOMER" if speakers[i] == "AGENT" else "AGENT"
        findings.append(
            Finding(
                "role_mismatch",
                int(i),
                speakers[i],
                f"reads like the {other}'s line (P({speakers[i]}) = {math.exp(log_own[i]):.2f})",
                hard=False,
            )
        )

    position = emb.astype(np.float64) @ heads.pos_w + heads.pos_b
    order = spearman(position, np.arange(n, dtype=np.float64)) if n >= 3 else 0.0

    half = n // 2
    callers = [i for i, s in enumerate(speakers) if s == "CUSTOMER"]
    opening_sims = (
        [float(sims[i, callers[0]]) for i in range(max(half, callers[0] + 1), n)] if callers else []
    )
    words = [content_words(t) for t in view.texts]
    continuity: list[float] = []
    for k in cuts:
        before: set[str] = set().union(*words[:k])
        after: set[str] = set().union(*words[k:])
        continuity.append(len(before & after) / len(after) if after else 1.0)

    anchors = {
        "adjacent_sim": int(np.argmin(adjacent)) + 1 if adjacent else 0,
        "locality_margin": int(np.argmin(replies)) + 1 if replies else 0,
        "reply_min": int(np.argmin(replies)) + 1 if replies else 0,
        "topic_split_min": cuts[int(np.argmin(splits))] if splits else 0,
        "role_centroid_sim": 0,
        "role_fit": int(np.argmin(log_own)),
        "role_worst": int(np.argmin(log_own)),
        "order_fit": int(np.argmax(np.abs(_ranks(position) - np.arange(n)))) if n >= 3 else 0,
        "opening_relevance": max(half, callers[0] + 1) + int(np.argmin(opening_sims)) if opening_sims else 0,
        "vocabulary_continuity": cuts[int(np.argmin(continuity))] if continuity else 0,
    }
    signals = {
        "adjacent_sim": float(np.mean(adjacent)) if adjacent else 0.0,
        "locality_margin": float(np.mean(locality)) if locality else 0.0,
        "reply_min": float(min(replies)) if replies else 0.0,
        "topic_split_min": float(min(splits)) if splits else 1.0,
        "role_centroid_sim": centroid,
        "role_fit": float(np.mean(log_own)),
        "role_worst": float(np.min(log_own)),
        "order_fit": order,
        "opening_relevance": float(np.mean(opening_sims)) if opening_sims else 0.0,
        "vocabulary_continuity": float(min(continuity)) if continuity else 1.0,
    }
    return TurnSignals(signals, anchors, findings)
