"""A tick's launches as one SensorResult: new dynamic partitions + run requests, or a SkipReason."""

from __future__ import annotations

import json
from typing import Any

from dagster import AddDynamicPartitionsRequest, SensorEvaluationContext, SensorResult

from sensors.request_advance import Launches
from sensors.request_planner import RequestPlanner


def sensor_result(
    context: SensorEvaluationContext,
    planner: RequestPlanner | None,
    out: Launches,
    cursor: dict[str, Any],
    idle_message: str,
) -> SensorResult:
    """The tick's SensorResult: partitions + run requests, or a SkipReason made of the tick's notes."""
    partitions = []
    if planner is not None and out.new_shards:
        partitions.append(
            AddDynamicPartitionsRequest(planner.shard_partitions, list(dict.fromkeys(out.new_shards)))
        )
    if planner is not None and out.new_requests:
        partitions.append(AddDynamicPartitionsRequest(planner.request_partitions, out.new_requests))
    cursor["launched"] = int(cursor.get("launched", 0)) + len(out.run_requests)
    cursor["last"] = out.notes[:20]
    text = json.dumps(cursor, sort_keys=True)
    for note in out.notes:
        context.log.info(note)
    if out.run_requests:
        return SensorResult(
            run_requests=out.run_requests, dynamic_partitions_requests=partitions, cursor=text
        )
    reason = "; ".join(out.notes) if out.notes else idle_message
    return SensorResult(skip_reason=reason, dynamic_partitions_requests=partitions or None, cursor=text)
