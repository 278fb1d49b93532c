"""The ``activity`` sensor: polite use of the machines people also use.

Each tick, for every node: gaming mode (``probes/gpu_processes``, from the node's NVML process list)
suspends it; a camera or microphone in use on the local machine (``probes/camera``, ``probes/microphone``)
suspends the local in-process nodes; configured work hours (``probes/work_hours``) reduce concurrency by
``work_hours_factor``. The node's activity restriction is stored and combined with the thermal guard's
and any operator's (``resources/node_restrictions``: each lifts only its own). When the local machine is
idle (``probes/x11_idle``, ``probes/logind_idle``, else ``probes/load_idle``) and not restricted, the
sensor launches extra shards for open requests (``idle_extra_shards`` beside the one in flight, through
the same planner and request driver as ``request_intake``). Probes that the platform lacks report
"unavailable" and why; the tick's text names the probe behind every decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dagster import (
    ResourceParam,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
)

from resources.ledger import Ledger
from sensors.activity_policy import ActivityVerdict, activity_verdict
from sensors.launch_result import sensor_result
from sensors.node_guard import ACTIVITY_SOURCE, restrict
from sensors.node_readings import NO_READINGS, FleetReadings, NodeReading, ReadingsFactory
from sensors.pool_capacity import shard_capacity
from sensors.pool_nodes import PoolNodes
from sensors.probes.camera import camera_probe
from sensors.probes.gpu_processes import gaming_probe
from sensors.probes.load_idle import load_idle_probe
from sensors.probes.logind_idle import logind_idle_probe
from sensors.probes.microphone import microphone_probe
from sensors.probes.probe_result import ProbeResult
from sensors.probes.work_hours import work_hours_probe
from sensors.probes.x11_idle import x11_idle_probe
from sensors.request_advance import Launches, RequestDriver, TickLimits
from sensors.request_planner import RequestPlanner
from sensors.sensor_cursor import read_cursor
from sensors.ticking import ticking_sensor
from transcript_assets.jobs import generate_shard_job
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_restrictions import Restriction
from transcript_foundry.settings.model import ActivitySettings, Settings
from transcript_foundry.settings.store import SettingsStore


@dataclass
class LocalProbes:
    """The local machine's probes (injectable: tests cannot open a camera or walk away from a keyboard)."""

    idle: Sequence[Callable[[ActivitySettings], ProbeResult]] = (
        lambda s: x11_idle_probe(s.idle_after_s),
        lambda s: logind_idle_probe(s.idle_after_s),
        lambda s: load_idle_probe(s.idle_load_per_cpu),
    )
    presence: Sequence[Callable[[], ProbeResult]] = (camera_probe, microphone_probe)
    clock: Callable[[], datetime] = field(default=datetime.now)  # local time, for work hours


def node_verdict(
    reading: NodeReading, settings: ActivitySettings, probes: LocalProbes, local_cache: dict[str, Any]
) -> ActivityVerdict:
    if reading.local:
        if "presence" not in local_cache:  # machine-wide: once per tick
            local_cache["presence"] = [p() for p in probes.presence]
            local_cache["idle"] = [p(settings) for p in probes.idle]
        presence, idle = local_cache["presence"], local_cache["idle"]
    else:
        presence, idle = [], []
    return activity_verdict(
        gaming_probe(reading.live, settings),
        presence,
        work_hours_probe(probes.clock(), settings),
        idle,
        settings,
    )


def idle_tick_limits(settings: Settings, free_shard_slots: int, idle_nodes: int) -> TickLimits:
    """What a tick with idle nodes may launch: ``activity.idle_extra_shards`` more shards per open request
    (and that many more slots per idle node), within the intake limits."""
    extra = settings.activity.idle_extra_shards
    return TickLimits(
        max_runs=settings.intake.max_runs_per_tick,
        free_shard_slots=free_shard_slots + extra * idle_nodes,
        shards_per_request=settings.intake.shards_per_request + extra,
        max_shard_attempts=settings.intake.max_shard_attempts,
        orphan_grace_s=None,
        retry_failed=False,
        extra_shards_only=True,
    )


def build_activity_sensor(
    jobs: Sequence[Any] = (generate_shard_job,),
    *,
    readings_factory: ReadingsFactory = FleetReadings,
    probes: LocalProbes | None = None,
    every_s: int = 60,
) -> SensorDefinition:
    local_probes = probes or LocalProbes()

    @ticking_sensor(
        "activity",
        "Gaming mode or a camera / microphone in use suspends a node, work hours throttle it, "
        "an idle machine gets extra shards.",
        every_s=every_s,
        jobs=jobs,
    )
    def activity(
        context: SensorEvaluationContext, ledger: Ledger, llm_pool: ResourceParam[PoolNodes]
    ) -> SensorResult:
        store = SettingsStore(ledger.engine)
        controls = NodeControls(ledger.engine)
        cursor = read_cursor(context.cursor)
        lines, changes, idle_nodes, states = [], [], [], {}
        cache: dict[str, Any] = {}
        for node_id, reading in sorted(readings_factory(ledger.engine, llm_pool).read().items()):
            settings = store.load(reading.hostname).settings.activity
            verdict = node_verdict(reading, settings, local_probes, cache)
            change = restrict(
                ledger.engine,
                Restriction(node_id, ACTIVITY_SOURCE, verdict.state, verdict.throttle_factor, verdict.reason),
            )
            if change:
                changes.append(change)
                context.log.warning(change)
            states[node_id] = verdict.state
            driver = f" [by {verdict.driver}]" if verdict.driver else ""
            idle = f"; {verdict.idle_reason}" if verdict.state == "normal" else ""
            lines.append(f"{node_id}: {verdict.state}{driver} ({verdict.reason}{idle})")
            if verdict.idle and controls.get(node_id).state == "normal":
                idle_nodes.append(node_id)
        cursor.update(ticks=int(cursor.get("ticks", 0)) + 1, states=states, idle=idle_nodes)
        base = store.load().settings
        extra = base.activity.idle_extra_shards
        notes = (["changed: " + " | ".join(changes)] if changes else []) + lines
        if idle_nodes and extra:
            planner = RequestPlanner(ledger, base.intake)
            capacity = shard_capacity(context.instance, ledger.engine, llm_pool, base.intake.runs_per_node)
            limits = idle_tick_limits(base, capacity.free, len(idle_nodes))
            out = RequestDriver(planner, ledger, context.instance, base.intake, limits).advance_all()
            out.notes[:0] = [
                *notes,
                f"idle: {', '.join(idle_nodes)}; up to {extra} extra shard(s) per open request",
            ]
        else:
            planner, out = None, Launches(TickLimits(max_runs=0, free_shard_slots=0), notes=notes)
        return sensor_result(context, planner, out, cursor, NO_READINGS)

    return activity
