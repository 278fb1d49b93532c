"""The ``thermal_guard`` sensor: throttles hot nodes, pauses critical ones, lets them recover below 75 °C.

Every tick it reads each node's temperatures (``sensors/node_readings.py``), decides with
``sensors/thermal_policy.py`` under the node's ``thermal`` settings (its host profile applies; re-read
each tick), stores its restriction and writes the node's effective control (``resources/node_restrictions``:
a restriction of the activity sensor or an operator is kept). Each change of a node's state is a row in
``node_events`` (``transcripts nodes`` shows them) and a line in the tick's text in the Dagster UI.
"""

from __future__ import annotations

import json

from dagster import (
    ResourceParam,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
)

from resources.ledger import Ledger
from sensors.node_guard import THERMAL_SOURCE, restrict
from sensors.node_readings import NO_READINGS, FleetReadings, ReadingsFactory
from sensors.pool_nodes import PoolNodes
from sensors.sensor_cursor import read_cursor
from sensors.thermal_policy import thermal_verdict
from sensors.ticking import ticking_sensor
from transcript_foundry.pool.node_restrictions import NodeRestrictions, Restriction
from transcript_foundry.settings.store import SettingsStore


def build_thermal_guard_sensor(
    readings_factory: ReadingsFactory = FleetReadings,
    *,
    every_s: int = 30,
) -> SensorDefinition:
    @ticking_sensor(
        "thermal_guard",
        "Throttles a node at CPU >= 80 °C / GPU >= 85 °C (concurrency x 0.7), pauses it at the "
        "critical limits, lets it recover below 75 °C (all from the thermal settings).",
        every_s=every_s,
    )
    def thermal_guard(
        context: SensorEvaluationContext, ledger: Ledger, llm_pool: ResourceParam[PoolNodes]
    ) -> SensorResult:
        store = SettingsStore(ledger.engine)
        restrictions = NodeRestrictions(ledger.engine)
        cursor = read_cursor(context.cursor)
        states: dict[str, str] = {}
        lines, changes = [], []
        for node_id, reading in sorted(readings_factory(ledger.engine, llm_pool).read().items()):
            limits = store.load(reading.hostname).settings.thermal
            live = reading.live
            verdict = thermal_verdict(
                restrictions.get(node_id, THERMAL_SOURCE).state,
                live.cpu_temp_c if live else None,
                live.gpu_temp_c if live else None,
                limits,
                live.unavailable if live else {"heartbeat": "the node sent no live state"},
            )
            factor = limits.throttle_factor if verdict.state == "throttled" else 1.0
            change = restrict(
                ledger.engine, Restriction(node_id, THERMAL_SOURCE, verdict.state, factor, verdict.reason)
            )
            if change:
                changes.append(change)
                context.log.warning(change)
            states[node_id] = verdict.state
            lines.append(f"{node_id}: {verdict.state} ({verdict.reason})")
        cursor.update(
            ticks=int(cursor.get("ticks", 0)) + 1,
            states=states,
            last_changes=changes or cursor.get("last_changes", []),
        )
        text = ("changed: " + " | ".join(changes) + " || " if changes else "") + (
            " | ".join(lines) or NO_READINGS
        )
        return SensorResult(skip_reason=text, cursor=json.dumps(cursor, sort_keys=True))

    return thermal_guard
