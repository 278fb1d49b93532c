"""Coverage against the request: a fixed dimension expects its value, an open one an even mix, gaps named."""

from transcript_foundry.contract.job_spec import TONES, JobSpec
from transcript_foundry.domains.domain_pack import load_domain_packs
from transcript_foundry.report.coverage import Requested, coverage, requested_from_spec


def record(tone: str, scenario: str, turns: int) -> dict:
    return {
        "emotional_tone": tone,
        "scenario": scenario,
        "turns": [{"speaker": "AGENT", "text": "x"}] * turns,
    }


def test_a_set_missing_a_requested_tone_names_that_gap() -> None:
    pack = load_domain_packs()["healthcare"]
    spec = JobSpec(count=4, domain="healthcare", exchanges=(6, 10))  # tones left open: an even mix
    requested = requested_from_spec(spec, pack)
    assert requested.values["emotional_tone"] == list(TONES)
    scenario = pack.scenarios[0].id
    records = [record("frustrated", scenario, 8)] * 3 + [record("calm", scenario, 4)]
    result = coverage(records, requested)
    tone = result["dimensions"]["emotional_tone"]
    missing = [t for t in TONES if t not in ("frustrated", "calm")]
    assert tone["asked"] == "even mix" and tone["covered"] == round(2 / len(TONES), 4)
    for t in missing:
        assert f"emotional_tone: no '{t}' call delivered" in result["gaps"]
    # calm: 1 of 4 delivered; target share 1/len(TONES) -> not under half of it when len(TONES) >= 2
    assert result["turns"]["within"] == 0.75
    assert "turns: 1 call(s) outside the asked 6-10 turns" in result["gaps"]
    other = [s.id for s in pack.scenarios[1:]]
    assert all(f"scenario: no '{s}' call delivered" in result["gaps"] for s in other)


def test_a_fixed_dimension_expects_only_its_value() -> None:
    spec = JobSpec(count=2, domain="healthcare", emotional_tone="angry")
    requested = requested_from_spec(spec, None)
    result = coverage([record("angry", "a", 8), record("calm", "a", 8)], requested)
    tone = result["dimensions"]["emotional_tone"]
    assert tone["asked"] == "fixed" and tone["expected"] == ["angry"] and tone["covered"] == 1.0
    assert "emotional_tone: 'calm' delivered but not asked for (1)" in result["gaps"]


def test_under_represented_values_are_named() -> None:
    requested = Requested({"scenario": ["a", "b"]})
    result = coverage([record("calm", "a", 5)] * 9 + [record("calm", "b", 5)], requested)
    # target 5 of 10 each; b has 1 < half of 5
    assert result["gaps"] == ["scenario: 'b' under-represented (1/10, target 50%)"]


def test_without_a_request_only_the_distribution_is_reported() -> None:
    result = coverage([record("calm", "a", 5)], None)
    assert result["gaps"] == [] and result["dimensions"]["scenario"]["asked"] == "not known"
    assert result["turns"] == {"histogram": {5: 1}}
