"""The learned discriminator: weights load only in their version and feature layout; it ranks held-out
clean calls above corrupted ones; score_call names the turn of what it finds."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.classifier import (
    VERSION,
    WeightsError,
    auc,
    fit_logistic,
    load_weights,
    weights_path,
)
from transcript_foundry.quality.coherence.corruptions import CORRUPTIONS, corrupt
from transcript_foundry.quality.coherence.features import FEATURE_NAMES
from transcript_foundry.quality.coherence.reference_calls import reference_calls


def packaged() -> dict:
    return json.loads(weights_path().read_text())


def test_packaged_weights_load_with_their_version_and_features() -> None:
    w = load_weights()
    assert w.version == VERSION
    assert w.feature_names == FEATURE_NAMES
    assert w.coef.shape == (len(FEATURE_NAMES),)
    assert w.heads.role_w.shape == w.heads.pos_w.shape == (384,)
    assert w.metadata["train_calls"] == len(reference_calls("train"))


def test_weights_of_another_version_are_refused(tmp_path: Path) -> None:
    data = packaged()
    data["version"] = "coherence-v0"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    with pytest.raises(WeightsError, match="version 'coherence-v0'"):
        load_weights(path)
    with pytest.raises(WeightsError, match="version"):
        load_weights(weights_path(), expected_version="coherence-v9")


def test_weights_with_other_features_are_refused(tmp_path: Path) -> None:
    data = packaged()
    data["feature_names"] = [*data["feature_names"][1:], "sentiment"]
    path = tmp_path / "shifted.json"
    path.write_text(json.dumps(data))
    with pytest.raises(WeightsError, match="unknown sentiment"):
        load_weights(path)


def test_fit_logistic_separates_what_is_separable() -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(1.0, 0.5, (50, 2)), rng.normal(-1.0, 0.5, (50, 2))])
    y = np.array([1.0] * 50 + [0.0] * 50)
    coef, intercept = fit_logistic(x, y, l2=0.1)
    z = x @ coef + intercept
    assert auc(z[:50].tolist(), z[50:].tolist()) > 0.99
    assert coef[0] > 0 and coef[1] > 0


def test_auc_counts_ties_half() -> None:
    assert auc([1.0, 2.0], [0.0]) == 1.0
    assert auc([1.0], [1.0]) == 0.5
    assert auc([0.0], [1.0, 2.0]) == 0.0


@pytest.mark.slow
def test_held_out_clean_calls_rank_above_corrupted_ones() -> None:
    from transcript_foundry.quality.coherence.score import CoherenceScorer

    scorer = CoherenceScorer()
    clean = reference_calls("heldout")[:12]
    rng = random.Random(7)
    clean_scores = [r.overall for r in scorer.score_many(clean)]
    for kind in CORRUPTIONS:
        bad = [b for b in (corrupt(kind, c, clean, rng) for c in clean) if b is not None]
        scores = [r.overall for r in scorer.score_many(bad)]
        assert len(scores) >= 8, kind
        assert auc(clean_scores, scores) >= 0.9, kind


@pytest.mark.slow
def test_score_call_names_the_turn_and_fails_a_rule_violation() -> None:
    from transcript_foundry.quality.coherence.score import score_call

    call = reference_calls("heldout")[0]
    good = score_call(call)
    assert good.version == VERSION and 0.0 <= good.overall <= 1.0
    assert set(good.contributions) == set(FEATURE_NAMES)
    assert good.violations == ()

    turns = list(call.turns)
    agent = next(i for i in range(2, len(turns)) if turns[i][0] == "AGENT")
    turns[agent] = ("AGENT", f"Thank you, {call.agent_name}. {turns[agent][1]}")
    bad = score_call(CallView(turns=tuple(turns), agent_name=call.agent_name))
    assert not bad.passed()
    assert bad.overall < good.overall
    assert (
        f"turn {agent} (AGENT): thanks the caller by the agent's own name '{call.agent_name}'" in bad.reasons
    )
