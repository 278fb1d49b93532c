"""Asset checks of scored_transcripts: the shard's pass-rate floor, and the transcript table's expectations.

- ``pass_rate_floor`` (blocking): the share of the transcripts scored in this run that passed, after all
  rounds of the loop, must reach the floor (default 0.5). A failing shard fails its run; its slots stay
  recorded in the ledger (passed or rejected_quality).
- ``transcript_table_expectations``: a Great Expectations suite on the shard's passed transcripts, one
  row per turn (pandas, an ephemeral context: nothing written to disk). Required fields present and
  non-null, speaker in {AGENT, CUSTOMER}, turns per transcript within the JobSpec's ``exchanges``, turn
  text 1..``MAX_TURN_CHARS`` characters and not blank. The failing expectations are in the metadata.
  Great Expectations is imported inside the check: it takes seconds to import.
"""

from __future__ import annotations

import os
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

PASS_RATE_CHECK = "pass_rate_floor"
TABLE_CHECK = "transcript_table_expectations"
DEFAULT_PASS_RATE_FLOOR = 0.5
DEFAULT_PASS_RATE_MIN_SCORED = 5
MAX_TURN_CHARS = 1200
REQUIRED_FIELDS = ("id", "request_id", "domain", "scenario", "speaker", "text")
SPEAKERS = ("AGENT", "CUSTOMER")


def check_specs(asset: str) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(
            PASS_RATE_CHECK,
            asset=asset,
            blocking=True,
            description="Fails the shard when its pass rate after the quality loop is below the floor.",
        ),
        AssetCheckSpec(
            TABLE_CHECK,
            asset=asset,
            description=(
                "Great Expectations suite on the transcript table: required fields, speakers, turn counts "
                "within the request's exchanges, text lengths, no empty turns."
            ),
        ),
    ]


def pass_rate_result(
    passed: int, scored: int, floor: float, min_scored: int = DEFAULT_PASS_RATE_MIN_SCORED
) -> AssetCheckResult:
    """The shard's pass rate against the floor; a shard that scored fewer than ``min_scored`` transcripts
    (a small top-up shard) says so and passes: one unlucky call is no evidence of a broken node or prompt."""
    rate = passed / scored if scored else 1.0
    enough = scored >= max(1, min_scored)
    ok = rate >= floor or not enough
    if not scored:
        description = (
            "nothing was scored in this run (all slots reused or failed): nothing to hold to the floor"
        )
    elif not enough:
        description = (
            f"pass rate {rate:.2f} over only {scored} scored (fewer than {min_scored}): too few to hold to "
            f"the floor {floor:.2f}"
        )
    else:
        description = f"pass rate {rate:.2f} {'>=' if ok else '<'} floor {floor:.2f} ({passed} of {scored} scored passed)"
    return AssetCheckResult(
        check_name=PASS_RATE_CHECK,
        passed=ok,
        severity=AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "pass_rate": MetadataValue.float(round(rate, 4)),
            "floor": MetadataValue.float(floor),
            "min_scored": min_scored,
            "passed": passed,
            "scored": scored,
        },
    )


def turn_table(records: list[dict[str, Any]]) -> Any:
    """One row per turn, with the transcript's fields and its turn count (a pandas DataFrame)."""
    import pandas as pd

    rows = []
    for record in records:
        turns = record.get("turns") or []
        for i, turn in enumerate(turns):
            rows.append(
                {
                    **{f: record.get(f) for f in REQUIRED_FIELDS if f not in ("speaker", "text")},
                    "turn_index": i,
                    "turn_count": len(turns),
                    "speaker": turn.get("speaker"),
                    "text": turn.get("text"),
                    "stripped_length": len((turn.get("text") or "").strip()),
                }
            )
    columns = [*REQUIRED_FIELDS, "turn_index", "turn_count", "stripped_length"]
    return pd.DataFrame(rows, columns=columns)


def _suite(bounds: tuple[int, int]) -> Any:
    import great_expectations as gx

    low, high = bounds
    suite = gx.ExpectationSuite(name="transcript_table")
    for name in REQUIRED_FIELDS:
        suite.add_expectation(gx.expectations.ExpectColumnToExist(column=name))
        suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=name))
    suite.add_expectation(
        gx.expectations.ExpectColumnValuesToBeInSet(column="speaker", value_set=list(SPEAKERS))
    )
    suite.add_expectation(
        gx.expectations.ExpectColumnValuesToBeBetween(column="turn_count", min_value=low, max_value=high)
    )
    suite.add_expectation(
        gx.expectations.ExpectColumnValueLengthsToBeBetween(
            column="text", min_value=1, max_value=MAX_TURN_CHARS
        )
    )
    suite.add_expectation(
        gx.expectations.ExpectColumnValuesToBeBetween(column="stripped_length", min_value=1)
    )
    return suite


def validate_table(
    records: list[dict[str, Any]], bounds: tuple[int, int]
) -> tuple[bool, list[dict[str, Any]]]:
    """Run the suite; (success, the failing expectations with their unexpected values)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas(name="scored_transcripts")
    batch = (
        source.add_dataframe_asset(name="turns")
        .add_batch_definition_whole_dataframe("shard")
        .get_batch(batch_parameters={"dataframe": turn_table(records)})
    )
    result = batch.validate(_suite(bounds), result_format="SUMMARY")
    failures = []
    for r in result.results:
        if r.success:
            continue
        kwargs = {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"}
        details = r.result or {}
        failures.append(
            {
                "expectation": r.expectation_config.type,
                **kwargs,
                "unexpected_count": details.get("unexpected_count"),
                "unexpected_values": [str(v)[:80] for v in details.get("partial_unexpected_list", [])[:5]],
            }
        )
    return bool(result.success), failures


def transcript_table_result(records: list[dict[str, Any]], bounds: tuple[int, int]) -> AssetCheckResult:
    ok, failures = validate_table(records, bounds)
    return AssetCheckResult(
        check_name=TABLE_CHECK,
        passed=ok,
        severity=AssetCheckSeverity.ERROR,
        description="all expectations met" if ok else f"{len(failures)} expectation(s) failed",
        metadata={
            "transcripts": len(records),
            "turns": sum(len(r.get("turns") or []) for r in records),
            "turn_bounds": MetadataValue.json(list(bounds)),
            "failing_expectations": MetadataValue.json(failures),
        },
    )
