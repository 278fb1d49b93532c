"""Alerting: failed runs and nodes going unhealthy -> Slack webhook and / or e-mail (``alerting`` settings).

- ``run_failure_alerts`` (a run failure sensor): every failed run of this code location, with its job,
  partition, the error and a link to the run in the UI when ``alerting.webserver_base_url`` is set.
- ``node_health_alerts``: each tick, records a ``stale`` node event for an agent whose heartbeat stopped
  (and ``fresh`` when it is back), then alerts on new node events into an unhealthy state: ``paused``
  (thermal guard, activity, operator), ``circuit_open`` (the pool's circuit breaker), ``stale``.
Repeats of one alert (same job + partition, same node + state) within ``alerting.cooldown_s`` are
suppressed (``transcript_foundry/alerts/log.py``). Settings are re-read on every evaluation.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    run_failure_sensor,
)
from sqlalchemy import select

from resources.ledger import Ledger
from sensors.sensor_cursor import read_cursor
from sensors.ticking import ticking_sensor
from transcript_foundry.alerts.channels import Alert
from transcript_foundry.alerts.log import AlertLog
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_registry import DEFAULT_MAX_HEARTBEAT_AGE_S, NodeRegistry
from transcript_foundry.settings.store import SettingsStore
from transcript_foundry.state.state_db import node_events

UNHEALTHY_STATES = frozenset({"paused", "stale", "circuit_open"})
HEALTH_SOURCE = "node_health"
FIRST_TICK_LOOKBACK = timedelta(hours=1)


def run_failure_alert(job_name: str, run_id: str, partition: str | None, error: str, base_url: str) -> Alert:
    where = f" (partition {partition})" if partition else ""
    link = f"\n{base_url.rstrip('/')}/runs/{run_id}" if base_url else ""
    return Alert(
        key=f"run_failure:{job_name}:{partition or '-'}",
        title=f"Run failed: {job_name}{where}",
        text=f"Dagster run {run_id} of {job_name}{where} failed: {error.strip()[:1500]}{link}",
    )


def node_alert(event: dict) -> Alert:
    node, state = event["node_id"], event["to_state"]
    return Alert(
        key=f"node:{node}:{state}",
        title=f"Node {node} is {state}",
        text=f"Node {node}: {event.get('from_state') or '?'} -> {state} by {event['source']} at "
        f"{event['timestamp']}: {event.get('reason') or 'no reason given'}",
    )


def build_run_failure_alerts_sensor(
    default_status: DefaultSensorStatus = DefaultSensorStatus.RUNNING,
) -> SensorDefinition:
    @run_failure_sensor(
        name="run_failure_alerts",
        default_status=default_status,
        description="Sends each failed run to the alerting channels (Slack webhook, e-mail).",
    )
    def run_failure_alerts(context: RunFailureSensorContext, ledger: Ledger) -> None:
        settings = SettingsStore(ledger.engine).load().settings.alerting
        run = context.dagster_run
        error = context.failure_event.message or "see the run in the Dagster UI"
        alert = run_failure_alert(
            run.job_name, run.run_id, run.tags.get("dagster/partition"), error, settings.webserver_base_url
        )
        outcome = AlertLog(ledger.engine).send(alert, settings)
        (context.log.error if outcome.errors else context.log.info)(str(outcome))

    return run_failure_alerts


def _record_staleness(engine, controls: NodeControls, max_age_s: float) -> list[str]:  # type: ignore[no-untyped-def]
    """A node event when an agent's heartbeat goes stale or comes back; the transitions recorded."""
    notes = []
    for node in NodeRegistry(engine).all():
        with engine.connect() as conn:
            last = conn.execute(
                select(node_events.c.to_state)
                .where(node_events.c.node_id == node.spec.id, node_events.c.source == HEALTH_SOURCE)
                .order_by(node_events.c.id.desc())
                .limit(1)
            ).scalar()
        stale = node.stale(max_age_s)
        if stale and last != "stale":
            reason = f"no heartbeat for {node.heartbeat_age_s:.0f} s (limit {max_age_s:.0f} s)"
            controls.record_event(
                node.spec.id, source=HEALTH_SOURCE, from_state=last, to_state="stale", reason=reason
            )
            notes.append(f"{node.spec.id}: stale ({reason})")
        elif not stale and last == "stale":
            controls.record_event(
                node.spec.id,
                source=HEALTH_SOURCE,
                from_state="stale",
                to_state="fresh",
                reason="heartbeats again",
            )
            notes.append(f"{node.spec.id}: heartbeats again")
    return notes


def build_node_health_alerts_sensor(
    *,
    max_heartbeat_age_s: float = DEFAULT_MAX_HEARTBEAT_AGE_S,
    every_s: int = 30,
) -> SensorDefinition:
    @ticking_sensor(
        "node_health_alerts",
        "Records stale heartbeats and alerts when a node is paused, its circuit opens or it goes stale.",
        every_s=every_s,
    )
    def node_health_alerts(context: SensorEvaluationContext, ledger: Ledger) -> SensorResult:
        settings = SettingsStore(ledger.engine).load().settings.alerting
        controls = NodeControls(ledger.engine)
        cursor = read_cursor(context.cursor)
        notes = _record_staleness(ledger.engine, controls, max_heartbeat_age_s)
        last_id = int(cursor.get("last_event_id", 0))
        with ledger.engine.connect() as conn:
            rows = conn.execute(
                select(node_events).where(node_events.c.id > last_id).order_by(node_events.c.id)
            )
            events = [dict(r._mapping) for r in rows]
        # A first tick (no cursor yet) alerts on the last hour only, not on the whole history.
        since = None if "last_event_id" in cursor else datetime.now(UTC) - FIRST_TICK_LOOKBACK
        log = AlertLog(ledger.engine)
        for event in events:
            stamp = (
                event["timestamp"] if event["timestamp"].tzinfo else event["timestamp"].replace(tzinfo=UTC)
            )
            if event["to_state"] in UNHEALTHY_STATES and (since is None or stamp >= since):
                outcome = log.send(node_alert(event), settings)
                notes.append(str(outcome))
                (context.log.error if outcome.errors else context.log.info)(str(outcome))
        cursor["last_event_id"] = events[-1]["id"] if events else last_id
        return SensorResult(
            skip_reason="; ".join(notes)
            or f"no new unhealthy node events (after event {cursor.get('last_event_id', 0)})",
            cursor=json.dumps(cursor, sort_keys=True),
        )

    return node_health_alerts
