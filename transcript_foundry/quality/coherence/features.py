"""The discriminator's fixed, named feature vector of one call: rule counts and embedding signals.

Rule features are ``log(1 + number of findings)`` of each role and entity rule; the turn-coherence
features are the embedding signals as computed. The order of ``FEATURE_NAMES`` is the order of the
classifier's weights, and the weights file names them, so a change here is caught when weights load.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date

import numpy as np

from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.entity_rules import ENTITY_RULES, entity_findings
from transcript_foundry.quality.coherence.findings import Finding
from transcript_foundry.quality.coherence.role_rules import ROLE_RULES, role_findings
from transcript_foundry.quality.coherence.turn_coherence import TURN_SIGNALS, TurnHeads, turn_signals

FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "roles": ROLE_RULES,
    "entities": ENTITY_RULES,
    "turn_coherence": TURN_SIGNALS,
}
FEATURE_NAMES: tuple[str, ...] = tuple(name for names in FEATURE_GROUPS.values() for name in names)
GROUP_OF: dict[str, str] = {name: group for group, names in FEATURE_GROUPS.items() for name in names}


@dataclass(frozen=True)
class CallFeatures:
    """``values`` by feature name, every finding (hard rules and soft signals), each signal's weakest turn."""

    values: dict[str, float]
    findings: tuple[Finding, ...]
    anchors: dict[str, int]

    def vector(self) -> np.ndarray:
        return np.array([self.values[name] for name in FEATURE_NAMES], dtype=np.float64)


def call_features(
    view: CallView, emb: np.ndarray, heads: TurnHeads, today: date | None = None
) -> CallFeatures:
    """The features of ``view`` given its turns' embeddings ``emb``."""
    rules = [*role_findings(view), *entity_findings(view, today)]
    counts = Counter(f.rule for f in rules)
    values = {name: math.log1p(counts[name]) for name in (*ROLE_RULES, *ENTITY_RULES)}
    turns = turn_signals(view, emb, heads)
    values.update(turns.values)
    anchors = dict(turns.anchors)
    for f in rules:
        anchors.setdefault(f.rule, f.turn)
    findings = tuple(sorted([*rules, *turns.findings], key=lambda f: (not f.hard, f.turn, f.rule)))
    return CallFeatures(values, findings, anchors)
