"""The model-free discriminator ranks the domain packs' hand-written calls above degraded copies of them."""

from __future__ import annotations

import pytest

from resources.node_pool import NodePool
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.quality.degradations import DEGRADATIONS, degrade, exemplar_transcript, truncated
from transcript_foundry.quality.discriminator import (
    JUDGE_ENV,
    Discriminator,
    DiscriminatorSettings,
    JudgeConfigError,
    judge_settings_from_env,
    resolve_judge_node,
)
from transcript_foundry.quality.gate import DEFAULT_WEIGHTS, DIMENSIONS, assess, validate_weights

BOUNDS = (4, 40)  # wide: the ranking is about the scores, not the turn-count rule
# The dimension each degradation must hurt (by at least 0.1).
HURTS = {
    "looped": "naturalness",
    "truncated": "coherence",
    "tone_flipped": "emotional_consistency",
    "off_domain": "domain_accuracy",
}


def _clean_set(packs: dict[str, DomainPack]) -> list[tuple[str, DomainPack, int]]:
    return [(name, pack, i) for name, pack in sorted(packs.items()) for i in range(len(pack.exemplars))]


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_every_clean_call_outranks_its_degraded_copy(packs: dict[str, DomainPack], kind: str) -> None:
    clean_set = _clean_set(packs)
    assert len(clean_set) >= 20
    for name, pack, i in clean_set:
        clean = exemplar_transcript(pack, i)
        degraded = degrade(kind, clean, pack, packs)
        good = assess(clean, pack, BOUNDS, 0.85)
        bad = assess(degraded.transcript, degraded.pack, BOUNDS, 0.85)
        where = f"{name}[{i}] {kind}: clean {good.scores} vs degraded {bad.scores} ({bad.reasons})"
        assert good.passed, where
        assert bad.overall < good.overall, where
        hurt = HURTS[kind]
        assert good.scores[hurt] - bad.scores[hurt] >= 0.1, where


def test_scores_are_in_range_and_overall_is_their_weighted_mean(packs: dict[str, DomainPack]) -> None:
    pack = packs["telecom"]
    report = assess(truncated(exemplar_transcript(pack, 1)), pack, BOUNDS, 0.85)
    assert set(report.scores) == set(DIMENSIONS)
    assert all(0.0 <= v <= 1.0 for v in report.scores.values())
    expected = sum(DEFAULT_WEIGHTS[d] * report.scores[d] for d in DIMENSIONS) / sum(DEFAULT_WEIGHTS.values())
    assert report.overall == pytest.approx(expected, abs=1e-4)
    assert any(i.kind in ("no_closing", "unfinished") for i in report.issues)


def test_weights_from_config_change_overall(packs: dict[str, DomainPack]) -> None:
    pack = packs["retail"]
    t = degrade("off_domain", exemplar_transcript(pack, 0), pack, packs)
    only_domain = {d: (1.0 if d == "domain_accuracy" else 0.0) for d in DIMENSIONS}
    no_domain = {d: (0.0 if d == "domain_accuracy" else 1.0) for d in DIMENSIONS}
    low = assess(t.transcript, t.pack, BOUNDS, 0.85, only_domain)
    high = assess(t.transcript, t.pack, BOUNDS, 0.85, no_domain)
    assert low.overall == low.scores["domain_accuracy"] < high.overall


def test_bad_weights_are_refused_with_the_dimension_named() -> None:
    with pytest.raises(ValueError, match="missing: emotional_consistency"):
        validate_weights({"naturalness": 1, "coherence": 1, "domain_accuracy": 1})
    with pytest.raises(ValueError, match="unknown: fluency"):
        validate_weights({**DEFAULT_WEIGHTS, "fluency": 1})
    with pytest.raises(ValueError, match=">= 0"):
        DiscriminatorSettings(weights={**DEFAULT_WEIGHTS, "coherence": -1})


def test_judge_auto_is_off_on_the_embedded_pool_and_on_for_a_chat_node(tmp_path) -> None:  # type: ignore[no-untyped-def]
    embedded = NodePool()
    assert resolve_judge_node(embedded, "auto", None) is None
    assert resolve_judge_node(embedded, "on", None) == "local"
    assert resolve_judge_node(embedded, "off", "local") is None
    nodes = tmp_path / "nodes.yaml"
    nodes.write_text(
        "nodes:\n  - {id: gen, backend: llama_cpp}\n"
        "  - {id: big, backend: openai_compatible, url: 'http://127.0.0.1:9/v1', model: m}\n"
    )
    pool = NodePool(nodes_file=str(nodes))
    assert resolve_judge_node(pool, "auto", None) == "big"
    assert resolve_judge_node(pool, "auto", "gen") == "gen"
    with pytest.raises(JudgeConfigError, match="no node 'nope' in the pool"):
        resolve_judge_node(pool, "auto", "nope")


def test_without_a_judge_the_report_says_model_free(packs: dict[str, DomainPack]) -> None:
    pack = packs["healthcare"]
    d = Discriminator(pack, BOUNDS, 0.85)
    report = d.score(exemplar_transcript(pack, 0))
    assert report.scorer == "model_free" and report.judge is None
    assert d.judge_outcomes == {"off": 1}


def test_judge_mode_comes_from_run_config_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(JUDGE_ENV, "on")
    assert judge_settings_from_env(None, None) == ("on", None)
    assert judge_settings_from_env("off", "big") == ("off", "big")
    monkeypatch.setenv(JUDGE_ENV, "sometimes")
    with pytest.raises(JudgeConfigError, match="'sometimes' is not one of auto, on, off"):
        judge_settings_from_env(None, None)
