"""The ``fleet_view`` sensor: records the fleet in the Dagster UI as asset observations.

Every tick it builds each node's report (``transcript_foundry/pool/node_report.py``: live state, score and
components, concurrency limit, controls, circuit, last performance sample), and emits in one SensorResult:

- per node an observation of ``fleet/<node id>`` with the numbers of ``node_readout`` as metadata (plotted
  over time on the asset's page) and its state and reason as text;
- per node event recorded since the last tick (thermal_guard, activity, operator, circuit, heartbeat) an
  observation of that node whose description says who changed what and why;
- one observation of ``fleet_summary`` holding a table of every node.

The cursor keeps the id of the last node event seen, so each transition is recorded once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dagster import (
    AssetObservation,
    MetadataValue,
    ResourceParam,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    TableColumn,
    TableRecord,
    TableSchema,
)
from sqlalchemy import select

from resources.ledger import Ledger
from sensors.sensor_cursor import read_cursor
from sensors.ticking import ticking_sensor
from transcript_assets.fleet_assets import FLEET_SUMMARY_KEY, fleet_node_key
from transcript_foundry.pool.node_readout import NodeReadout, node_readout
from transcript_foundry.state.state_db import node_events

ReportsFactory = Callable[[Any], list[dict[str, Any]]]

SUMMARY_COLUMNS = (
    ("node", "string"),
    ("state", "string"),
    ("reason", "string"),
    ("cpu_temp_c", "float"),
    ("gpu_temp_c", "float"),
    ("score", "float"),
    ("concurrency_limit", "int"),
    ("circuit", "string"),
    ("goodput_tokens_per_s", "float"),
)


def pool_reports(pool: Any) -> list[dict[str, Any]]:
    """The reports ``transcripts nodes --no-probe`` prints (no extra HTTP probes per tick)."""
    from transcript_foundry.pool.node_report import node_reports

    return node_reports(pool, probe_servers=False)


def node_observation(readout: NodeReadout) -> AssetObservation:
    metadata: dict[str, Any] = dict(readout.numbers)
    metadata.update(readout.labels)
    return AssetObservation(
        asset_key=fleet_node_key(readout.node_id),
        description=f"{readout.state}: {readout.reason}",
        metadata=metadata,
    )


def transition_observation(event: dict[str, Any]) -> AssetObservation:
    change = f"{event['from_state'] or 'unknown'} -> {event['to_state']}"
    return AssetObservation(
        asset_key=fleet_node_key(str(event["node_id"])),
        description=f"{event['source']}: {change} ({event['reason']})",
        metadata={
            "transition": change,
            "changed_by": str(event["source"]),
            "why": str(event["reason"] or "no reason given"),
            "node_event_id": int(event["id"]),
        },
    )


def summary_observation(readouts: list[NodeReadout]) -> AssetObservation:
    def row(r: NodeReadout) -> TableRecord:
        values: dict[str, Any] = {"node": r.node_id, "state": r.state, "reason": r.reason}
        values["circuit"] = r.labels["circuit"]
        for name, _ in SUMMARY_COLUMNS[3:]:
            if name != "circuit":
                values[name] = r.numbers.get(name)  # None: not reported (every row has every column)
        return TableRecord(values)

    schema = TableSchema(columns=[TableColumn(name, kind) for name, kind in SUMMARY_COLUMNS])
    states = [r.state for r in readouts]
    return AssetObservation(
        asset_key=FLEET_SUMMARY_KEY,
        description=", ".join(f"{s} {states.count(s)}" for s in sorted(set(states))) or "no nodes",
        metadata={
            "nodes": MetadataValue.table([row(r) for r in readouts], schema=schema),
            "nodes_total": len(readouts),
            "nodes_eligible": sum(int(r.numbers["eligible"]) for r in readouts),
            "nodes_throttled": states.count("throttled"),
            "nodes_paused": states.count("paused"),
        },
    )


def new_events(ledger: Ledger, after_id: int) -> list[dict[str, Any]]:
    query = select(node_events).where(node_events.c.id > after_id).order_by(node_events.c.id)
    with ledger.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def build_fleet_view_sensor(
    reports_factory: ReportsFactory = pool_reports, *, every_s: int = 30
) -> SensorDefinition:
    @ticking_sensor(
        "fleet_view",
        "Records every LLM node as observations of fleet/<node> (temperatures, load, score, limit, goodput, "
        "circuit; state changes with who and why) and the fleet_summary table.",
        every_s=every_s,
    )
    def fleet_view(
        context: SensorEvaluationContext, ledger: Ledger, llm_pool: ResourceParam[Any]
    ) -> SensorResult:
        cursor = read_cursor(context.cursor)
        readouts = [node_readout(report) for report in reports_factory(llm_pool)]
        events = new_events(ledger, int(cursor.get("last_event_id", 0)))
        observations = [
            *(transition_observation(e) for e in events),
            *(node_observation(r) for r in readouts),
            summary_observation(readouts),
        ]
        if events:
            cursor["last_event_id"] = int(events[-1]["id"])
        cursor["ticks"] = int(cursor.get("ticks", 0)) + 1
        text = " | ".join(f"{r.node_id}: {r.state} ({r.reason})" for r in readouts) or "no nodes known"
        return SensorResult(
            asset_events=observations,
            skip_reason=f"{len(events)} transition(s) recorded || {text}",
            cursor=json.dumps(cursor, sort_keys=True),
        )

    return fleet_view
