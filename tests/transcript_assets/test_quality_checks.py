"""The asset checks of scored_transcripts: the pass-rate floor and the Great Expectations table suite."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from transcript_assets.quality_checks import (
    PASS_RATE_CHECK,
    TABLE_CHECK,
    pass_rate_result,
    transcript_table_result,
)
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.quality.degradations import exemplar_transcript


def test_pass_rate_below_the_floor_fails_and_above_passes() -> None:
    low = pass_rate_result(passed=2, scored=6, floor=0.5)
    high = pass_rate_result(passed=4, scored=6, floor=0.5)
    assert low.check_name == high.check_name == PASS_RATE_CHECK
    assert not low.passed and high.passed
    assert low.metadata["pass_rate"].value == pytest.approx(0.3333, abs=1e-4)
    assert low.metadata["floor"].value == 0.5
    assert "0.33 < floor 0.50" in (low.description or "")
    assert pass_rate_result(passed=3, scored=6, floor=0.5).passed  # the floor itself passes
    small = pass_rate_result(passed=0, scored=2, floor=0.5)  # a two-slot top-up shard that failed
    assert small.passed and "too few" in (small.description or "")
    assert not pass_rate_result(passed=0, scored=2, floor=0.5, min_scored=2).passed


@pytest.fixture(scope="module")
def good_records(packs: dict[str, DomainPack]) -> list[dict[str, Any]]:
    pack = packs["retail"]
    return [exemplar_transcript(pack, i).to_record() for i in range(3)]


def _bounds(records: list[dict[str, Any]]) -> tuple[int, int]:
    sizes = [len(r["turns"]) for r in records]
    return min(sizes), max(sizes)


def test_a_clean_table_meets_every_expectation(good_records: list[dict[str, Any]]) -> None:
    result = transcript_table_result(good_records, _bounds(good_records))
    assert result.check_name == TABLE_CHECK
    assert result.passed, result.metadata["failing_expectations"].value
    assert result.metadata["failing_expectations"].value == []
    assert result.metadata["turns"].value == sum(len(r["turns"]) for r in good_records)


def _failing(result: Any) -> dict[str, dict[str, Any]]:
    return {
        f["expectation"] + ":" + str(f.get("column")): f
        for f in result.metadata["failing_expectations"].value
    }


def test_the_suite_catches_a_broken_table(good_records: list[dict[str, Any]]) -> None:
    bounds = _bounds(good_records)
    broken = copy.deepcopy(good_records)
    broken[0]["turns"][2]["text"] = "   "  # an empty turn
    broken[1]["turns"][1]["speaker"] = "BOT"  # a bad speaker
    broken[2]["turns"].extend(copy.deepcopy(broken[2]["turns"][:2]) * 10)  # far too many turns
    broken[2]["scenario"] = None  # a required field missing
    result = transcript_table_result(broken, bounds)
    assert not result.passed
    failing = _failing(result)
    assert failing["expect_column_values_to_be_in_set:speaker"]["unexpected_values"] == ["BOT"]
    assert failing["expect_column_values_to_be_between:stripped_length"]["unexpected_count"] == 1
    too_many = failing["expect_column_values_to_be_between:turn_count"]
    assert too_many["max_value"] == bounds[1] and too_many["unexpected_count"] == len(broken[2]["turns"])
    assert "expect_column_values_to_not_be_null:scenario" in failing
    assert len(failing) == 4, failing
