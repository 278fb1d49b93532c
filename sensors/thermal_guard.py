"""The ``thermal_guard`` sensor: throttles hot nodes, pauses critical ones, lets them recover below 75 °C.

Every tick it reads each node's temperatures (``sensors/node_readings.py``), decides with
``sensors/thermal_policy.py`` under the node's ``thermal`` settings (its host profile applies; re-read
each tick), stores its restriction and writes the node's effective control (``resources/node_restrictions``:
a restriction of the activity sensor or an operator is kept). Each change of a node's state is a row in
``node_events`` (``transcripts nodes`` shows them) and a line in the tick's text in the Dagster UI.

Predictive control (``sensors/thermal_forecast.py``): each tick's temperatures and load go into the node's
history (``thermal_samples``); once ``forecast_min_samples`` of them fit a cooling curve, the node is
throttled before the forecast crosses a throttle limit within ``forecast_horizon_s``, to the largest share
of its concurrency that stays below it, instead of after the crossing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

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
from sensors.thermal_forecast import predicted_now, thermal_decision
from sensors.ticking import ticking_sensor
from transcript_foundry.hardware.thermal_history import ThermalHistory, ThermalRow
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_restrictions import NodeRestrictions, Restriction
from transcript_foundry.settings.store import SettingsStore


def build_thermal_guard_sensor(
    readings_factory: ReadingsFactory = FleetReadings,
    *,
    every_s: int = 30,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SensorDefinition:
    """``clock`` stamps the telemetry history (a simulation replays ticks faster than 30 s apart)."""

    @ticking_sensor(
        "thermal_guard",
        "Throttles a node at CPU >= 80 °C / GPU >= 85 °C (concurrency x 0.7), pauses it at the "
        "critical limits, lets it recover below 75 °C (all from the thermal settings); with a node's fitted cooling "
        "curve, throttles before the forecast crosses a limit.",
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
        history, controls = ThermalHistory(ledger.engine), NodeControls(ledger.engine)
        for node_id, reading in sorted(readings_factory(ledger.engine, llm_pool).read().items()):
            limits = store.load(reading.hostname).settings.thermal
            live = reading.live
            temps = {"cpu": live.cpu_temp_c if live else None, "gpu": live.gpu_temp_c if live else None}
            control = controls.get(node_id)
            past = history.recent(node_id)
            decision = thermal_decision(
                restrictions.get(node_id, THERMAL_SOURCE).state,
                temps,
                float(live.in_flight) if live else 0.0,
                0.0 if control.paused else control.throttle_factor,
                past,
                limits,
                live.unavailable if live else {"heartbeat": "the node sent no live state"},
            )
            verdict = decision.verdict
            factor = decision.factor if verdict.state == "throttled" else 1.0
            if live is not None and any(t is not None for t in temps.values()):
                now = clock()
                history.record(
                    ThermalRow(
                        node_id,
                        now,
                        float(live.in_flight),
                        temps,
                        predicted_now(past, decision.models, now.timestamp(), float(live.in_flight)),
                        decision.forecast,
                        limits.forecast_horizon_s,
                    )
                )
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
