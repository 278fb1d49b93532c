"""Every settings key acts: ``transcripts config set KEY VALUE`` (and a host profile where the key is read per
node) changes what the component that reads it decides next, without a restart.

One probe per key, each against the real component: the pool (NodeFleet / Dispatcher, refreshed as it is
while dispatching), the sensors (their decision functions or a real tick on a real state DB and Dagster
instance), the assets' settings resolution, the request lifecycle, and the alert channels with a real
webhook receiver and SMTP server on loopback. ``test_every_key_has_a_probe`` fails when a key is added
without one, or when a probe outlives its key; a key the model drops is refused by ``config set``.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from dagster import DagsterInstance, DagsterRunStatus

from resources.ledger import Ledger
from sensors.activity import LocalProbes, idle_tick_limits, node_verdict
from sensors.alerting import run_failure_alert
from sensors.inbox import inbox_dir
from sensors.node_readings import NodeReading
from sensors.probes.probe_result import ProbeResult
from sensors.probes.x11_idle import x11_idle_probe
from sensors.thermal_forecast import thermal_decision
from sensors.thermal_guard import build_thermal_guard_sensor
from sensors.thermal_policy import thermal_verdict
from tests.sensors.test_alerting import Mailbox, Webhook, free_port
from tests.sensors.test_request_intake import add_partitions, finish_shard, record_run, tick
from tests.sensors.test_thermal_guard import Readings, run_tick
from transcript_assets.cli.main import main
from transcript_assets.schedules import build_schedules
from transcript_assets.scored_transcripts import ScoredTranscriptsConfig, quality_weights
from transcript_assets.transcript_library import LibraryConfig, library_dedup_config
from transcript_foundry.alerts.log import Alert, AlertLog
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.dedup.dedup_index import DedupIndex
from transcript_foundry.hardware.node_telemetry import LiveState
from transcript_foundry.hardware.thermal_history import ThermalRow
from transcript_foundry.pool.dispatch import Dispatcher, WorkItem
from transcript_foundry.pool.fleet import NodeFleet
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.quality.gate import weighted_overall
from transcript_foundry.request.lifecycle import submit_request
from transcript_foundry.request.retention import expired_requests
from transcript_foundry.request.standing import plan_top_ups
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.model import SECRET_KEYS, known_keys
from transcript_foundry.settings.store import SettingsStore
from transcript_foundry.settings.where_acts import ACTS_IN, PER_NODE_SECTIONS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def config_set(key: str, value: str) -> None:
    """What an operator types: ``transcripts config set KEY VALUE``, or for a secret key the value piped
    on stdin (a secret is never a command-line argument)."""
    if key in SECRET_KEYS:
        result = CliRunner().invoke(main, ["config", "set", key], input=f"{value}\n")
    else:
        result = CliRunner().invoke(main, ["config", "set", key, value])
    assert result.exit_code == 0, result.output


@pytest.fixture
def ledger(project_home: Path) -> Iterator[Ledger]:
    ledger = Ledger(url=project_paths().state_url)
    yield ledger
    ledger.dispose()


class Env:
    """What the probes share: the project's ledger and a fleet of two HTTP nodes (never called: routing
    decisions only) that reads the same state DB as ``config set`` writes."""

    def __init__(self, home: Path, ledger: Ledger):
        self.home = home
        self.ledger = ledger
        self._fleet: NodeFleet | None = None

    @property
    def engine(self) -> Any:
        return self.ledger.engine

    def settings(self, host: str | None = "probe-host") -> Any:
        return SettingsStore(self.engine).load(host).settings

    def fleet(self) -> NodeFleet:
        if self._fleet is None:
            nodes = [
                {"id": node, "backend": "openai_compatible", "url": "http://127.0.0.1:9/v1", "model": "m"}
                for node in ("a", "b")
            ]
            path = self.home / "nodes.yaml"
            path.write_text(json.dumps({"nodes": nodes}), encoding="utf-8")
            self._fleet = NodeFleet(nodes_file=str(path), state_url=project_paths().state_url)
        self._fleet.refresh(force=True)  # what the dispatcher does every refresh_interval_s
        return self._fleet

    def rank(self) -> dict[str, Any]:
        return {r.node_id: r for r in self.fleet().rank_nodes(refresh=False)}


@pytest.fixture
def env(project_home: Path, ledger: Ledger) -> Env:
    return Env(project_home, ledger)


PROBES: dict[str, Callable[[Env], None]] = {}


def probe(*keys: str) -> Callable[[Callable[[Env, str], None]], Callable[[Env, str], None]]:
    def register(fn: Callable[[Env, str], None]) -> Callable[[Env, str], None]:
        for key in keys:
            PROBES[key] = lambda env, fn=fn, key=key: fn(env, key)  # type: ignore[misc]
        return fn

    return register


# ---- thermal: the pool and the sensor read the same limits --------------------------------------------------


def thermal_component(env: Env, node: str, **temps: float) -> float:
    env.fleet().set_live(node, LiveState(**temps))
    return env.rank()[node].components["thermal"]


@probe("thermal.cpu_warm_c", "thermal.gpu_warm_c")
def _warm(env: Env, key: str) -> None:
    temps = {"cpu_temp_c": 65.0} if key.startswith("thermal.cpu") else {"gpu_temp_c": 70.0}
    assert thermal_component(env, "a", **temps) < 1.0  # past the warm mark (60 / 65): headroom falls
    config_set(key, "72")
    assert thermal_component(env, "a", **temps) == 1.0


@probe("thermal.cpu_throttle_c", "thermal.gpu_throttle_c")
def _throttle(env: Env, key: str) -> None:
    kind = key.split(".")[1][:3]
    live = LiveState(**{f"{kind}_temp_c": 86.0})
    fleet = env.fleet()
    fleet.set_live("a", live)
    assert fleet.runtime("a").limit() == 1, "hot: one call at a time"
    assert thermal_verdict("normal", live.cpu_temp_c, live.gpu_temp_c, env.settings().thermal).state == (
        "throttled"
    )
    config_set(key, "88")
    fleet = env.fleet()
    assert fleet.runtime("a").limit() > 1 and env.rank()["a"].components["thermal"] > 0
    assert thermal_verdict("throttled", live.cpu_temp_c, live.gpu_temp_c, env.settings().thermal).state == (
        "throttled"  # the hysteresis band now: a throttled node stays so until it cools
    )
    assert (
        thermal_verdict("normal", live.cpu_temp_c, live.gpu_temp_c, env.settings().thermal).state == "normal"
    )


@probe("thermal.cpu_critical_c", "thermal.gpu_critical_c")
def _critical(env: Env, key: str) -> None:
    kind = key.split(".")[1][:3]
    temps = {f"{kind}_temp_c": 89.0}
    env.fleet().set_live("a", LiveState(**temps))
    assert env.rank()["a"].eligible
    assert thermal_verdict(
        "normal", temps.get("cpu_temp_c"), temps.get("gpu_temp_c"), env.settings().thermal
    ).state == ("throttled")
    config_set(key, "89")
    ranked = env.rank()["a"]
    assert not ranked.eligible and "critically hot" in (ranked.excluded_because or "")
    assert thermal_verdict(
        "normal", temps.get("cpu_temp_c"), temps.get("gpu_temp_c"), env.settings().thermal
    ).state == ("paused")


@probe("thermal.recover_below_c")
def _recover(env: Env, key: str) -> None:
    assert thermal_verdict("throttled", 73.0, None, env.settings().thermal).state == "normal"
    config_set(key, "70")
    assert thermal_verdict("throttled", 73.0, None, env.settings().thermal).state == "throttled"


@probe("thermal.throttle_factor")
def _throttle_factor(env: Env, key: str) -> None:
    readings = Readings()
    readings.temps["gpu-a"] = (83.0, None)
    sensor = build_thermal_guard_sensor(lambda engine, pool: readings)
    controls = NodeControls(env.engine)
    run_tick(sensor, env.ledger)
    assert controls.get("gpu-a").throttle_factor == 0.7
    config_set(key, "0.4")
    run_tick(sensor, env.ledger)
    assert controls.get("gpu-a").throttle_factor == 0.4


def _heating_history(n: int) -> list[ThermalRow]:
    """A node on a 120 s cooling curve (40 + 8 x load °C), sampled every 30 s, load 0 then 6."""
    temp, rows = 40.0, []
    for k in range(n):
        load = 0.0 if k < 2 else 6.0
        target = 40.0 + 8.0 * load
        temp = target + (temp - target) * math.exp(-30.0 / 120.0)
        at = datetime.fromtimestamp(1_800_000_000 + 30 * k, UTC)
        rows.append(ThermalRow("n", at, load, {"cpu": temp}, {}, {}, None))
    return rows


@probe("thermal.forecast_horizon_s")
def _forecast_horizon(env: Env, key: str) -> None:
    def state() -> str:
        decision = thermal_decision(
            "normal", {"cpu": 76.0}, 6.0, 1.0, _heating_history(8), env.settings().thermal
        )
        return decision.verdict.state

    assert state() == "throttled"  # 76 °C heading for 88: throttled before 80
    config_set(key, "0")
    assert state() == "normal"  # reactive only


@probe("thermal.forecast_min_samples")
def _forecast_min_samples(env: Env, key: str) -> None:
    def modelled() -> bool:
        decision = thermal_decision(
            "normal", {"cpu": 76.0}, 6.0, 1.0, _heating_history(8), env.settings().thermal
        )
        return bool(decision.models)

    assert modelled()
    config_set(key, "20")
    assert not modelled()


def test_a_host_profile_reaches_routing(env: Env) -> None:
    """``profiles.<host>.thermal`` applies to the nodes on that host only (here: node a, host = its id)."""
    fleet = env.fleet()
    for node in ("a", "b"):
        fleet.set_live(node, LiveState(cpu_temp_c=88.0))
    assert env.rank()["a"].eligible and env.rank()["b"].eligible
    config_set("profiles.a.thermal.cpu_critical_c", "87")
    assert not env.rank()["a"].eligible and env.rank()["b"].eligible
    config_set("profiles.b.pool.max_concurrency", "3")
    config_set("profiles.b.circuit.failure_threshold", "2")
    fleet = env.fleet()
    assert (fleet.runtime("a").concurrency.high, fleet.runtime("b").concurrency.high) == (6, 3)
    assert fleet.runtime("b").circuit.settings.failure_threshold == 2
    assert fleet.runtime("a").circuit.settings.failure_threshold == 5


# ---- activity (the sensor's decision per node, with the node's host profile) ------------------------------


WEDNESDAY_10AM = datetime(2026, 12, 2, 10, 0)


def verdict(
    env: Env, live: LiveState | None = None, probes: LocalProbes | None = None, local: bool = True
) -> Any:
    reading = NodeReading("n", "probe-host", live or LiveState(), local=local)
    probes = probes or LocalProbes(
        idle=(), presence=(lambda: ProbeResult("camera", True, True, "in use"),), clock=lambda: WEDNESDAY_10AM
    )
    return node_verdict(reading, env.settings().activity, probes, {})


@probe("activity.gaming_gpu_util_pct")
def _gaming_util(env: Env, key: str) -> None:
    live = LiveState(gpu_util_pct=50.0, other_gpu_processes=[{"name": "game", "used_memory_mb": 10}])
    assert verdict(env, live, local=False).driver == "work_hours"
    config_set(key, "40")
    assert verdict(env, live, local=False).state == "paused"


@probe("activity.gaming_gpu_memory_mb")
def _gaming_memory(env: Env, key: str) -> None:
    live = LiveState(gpu_util_pct=5.0, other_gpu_processes=[{"name": "game", "used_memory_mb": 800}])
    assert verdict(env, live, local=False).driver == "work_hours"
    config_set(key, "512")
    assert verdict(env, live, local=False).state == "paused"


@probe("activity.work_hours", "activity.work_days", "activity.work_hours_factor")
def _work_hours(env: Env, key: str) -> None:
    before = verdict(env, local=False)
    assert (before.state, before.throttle_factor) == ("throttled", 0.5)
    config_set(key, {"activity.work_hours": "", "activity.work_days": "sat,sun"}.get(key, "0.8"))
    after = verdict(env, local=False)
    assert (after.state, after.throttle_factor) == (
        ("throttled", 0.8) if key == "activity.work_hours_factor" else ("normal", 1.0)
    )


@probe("activity.presence_suspends")
def _presence(env: Env, key: str) -> None:
    assert verdict(env).state == "paused"
    config_set(key, "false")
    assert verdict(env).state == "throttled"  # work hours, no longer the camera


@probe("activity.idle_after_s")
def _idle_after(env: Env, key: str) -> None:
    two_minutes = LocalProbes(  # xprintidle says 120 s without input (we cannot walk away from a keyboard)
        idle=(lambda s: x11_idle_probe(s.idle_after_s, run=lambda cmd: "120000", environ={"DISPLAY": ":0"}),),
        presence=(),
        clock=lambda: datetime(2026, 12, 5, 10, 0),  # Saturday: no work hours
    )
    assert not verdict(env, probes=two_minutes).idle
    config_set(key, "60")
    assert verdict(env, probes=two_minutes).idle


@probe("activity.idle_load_per_cpu")
def _idle_load(env: Env, key: str) -> None:
    from sensors.probes.load_idle import load_idle_probe

    probes = LocalProbes(
        idle=(lambda s: load_idle_probe(s.idle_load_per_cpu, load_1m=1.0, cpus=2),),
        presence=(),
        clock=lambda: datetime(2026, 12, 5, 10, 0),
    )
    assert not verdict(env, probes=probes).idle  # 0.5 per CPU >= 0.3
    config_set(key, "0.6")
    assert verdict(env, probes=probes).idle


@probe("activity.idle_extra_shards")
def _idle_extra(env: Env, key: str) -> None:
    assert idle_tick_limits(env.settings(None), 1, 2).shards_per_request == 2
    config_set(key, "3")
    limits = idle_tick_limits(env.settings(None), 1, 2)
    assert (limits.shards_per_request, limits.free_shard_slots) == (4, 7)


# ---- intake: the request_intake sensor's next tick -----------------------------------------------------------


def submit(text: str) -> None:
    assert CliRunner().invoke(main, ["submit", text]).exit_code == 0


@probe("intake.inbox")
def _inbox(env: Env, key: str) -> None:
    elsewhere = env.home / "dropbox"
    elsewhere.mkdir()
    (elsewhere / "a.txt").write_text("Generate 3 retail transcripts")
    instance = DagsterInstance.ephemeral()
    tick(instance, env.ledger)
    assert not env.ledger.list_requests() and inbox_dir(env.settings(None).intake) != elsewhere
    config_set(key, str(elsewhere))
    tick(instance, env.ledger)
    assert len(env.ledger.list_requests()) == 1 and (elsewhere / "processed" / "a.txt").exists()


@probe("intake.max_runs_per_tick", "intake.runs_per_node")
def _runs(env: Env, key: str) -> None:
    other = "intake.runs_per_node" if key == "intake.max_runs_per_tick" else "intake.max_runs_per_tick"
    config_set(other, "10")
    for domain in ("healthcare", "retail", "telecom"):
        submit(f"Generate 4 {domain} transcripts")
    instance = DagsterInstance.ephemeral()
    config_set(key, "1")
    assert len(tick(instance, env.ledger).run_requests) == 1
    config_set(key, "3")
    assert len(tick(instance, env.ledger).run_requests) == 2


@probe("intake.shards_per_request")
def _shards_per_request(env: Env, key: str) -> None:
    instance = DagsterInstance.ephemeral()
    config_set("intake.runs_per_node", "10")
    config_set("intake.shard_size", "5")
    submit("Generate 30 retail transcripts")
    result = tick(instance, env.ledger)
    add_partitions(instance, result)
    (first,) = result.run_requests
    record_run(instance, first, DagsterRunStatus.STARTED)
    assert not tick(instance, env.ledger).run_requests  # its one shard is running: the next waits
    config_set(key, "2")
    (second,) = tick(instance, env.ledger).run_requests
    assert second.job_name == "generate_shard" and second.partition_key != first.partition_key


@probe("intake.shard_size")
def _shard_size(env: Env, key: str) -> None:
    instance = DagsterInstance.ephemeral()
    config_set("intake.runs_per_node", "10")
    submit("Generate 30 retail transcripts")
    (first,) = tick(instance, env.ledger).run_requests
    assert len(env.ledger.shard_slots(first.partition_key)) == 10
    config_set(key, "4")
    submit("Generate 30 telecom transcripts")
    (second,) = tick(instance, env.ledger).run_requests
    assert len(env.ledger.shard_slots(second.partition_key)) == 4


@probe("intake.budget_factor")
def _budget(env: Env, key: str) -> None:
    instance = DagsterInstance.ephemeral()
    config_set("intake.runs_per_node", "10")
    config_set("intake.shard_size", "100")

    def second_shard(text: str) -> int:
        submit(text)
        result = tick(instance, env.ledger)
        add_partitions(instance, result)
        (first,) = result.run_requests
        finish_shard(env.ledger, first.partition_key, passed=5)  # 5 of 10: half the yield
        record_run(instance, first, DagsterRunStatus.SUCCESS)
        (second,) = tick(instance, env.ledger).run_requests
        return len(env.ledger.shard_slots(second.partition_key))

    assert second_shard("Generate 10 retail transcripts") == 10  # budget 30 slots: room for 10 more
    config_set(key, "1.5")
    assert second_shard("Generate 10 telecom transcripts") == 5  # budget 15 slots: 5 left


@probe("intake.max_shard_attempts")
def _attempts(env: Env, key: str) -> None:
    instance = DagsterInstance.ephemeral()
    submit("Generate 4 retail transcripts")
    result = tick(instance, env.ledger)
    add_partitions(instance, result)
    (run,) = result.run_requests
    config_set(key, "1")
    record_run(instance, run, DagsterRunStatus.FAILURE)
    stopped = tick(instance, env.ledger)
    row = env.ledger.list_requests()[0]
    assert not stopped.run_requests and row.status == "failed" and "max_shard_attempts=1" in row.status_reason


# ---- quality ---------------------------------------------------------------------------------------------


@probe("quality.minimum_score")
def _minimum_score(env: Env, key: str) -> None:
    def stored_threshold(spec: JobSpec, out: str) -> float:
        request_id, _ = submit_request(env.ledger, spec, "probe", env.home / out)
        return JobSpec.model_validate(env.ledger.get_request(request_id).spec).quality_threshold

    spec = JobSpec(count=3, domain="retail")
    assert stored_threshold(spec, "one") == 0.85
    config_set(key, "0.6")
    assert stored_threshold(spec, "two") == 0.6
    assert stored_threshold(JobSpec(count=3, domain="retail", quality_threshold=0.9), "three") == 0.9


@probe(
    "quality.naturalness_weight",
    "quality.coherence_weight",
    "quality.domain_accuracy_weight",
    "quality.emotional_consistency_weight",
)
def _quality_weight(env: Env, key: str) -> None:
    dimension = key.split(".")[1].removesuffix("_weight")
    scores = {d: 1.0 for d in ("naturalness", "coherence", "domain_accuracy", "emotional_consistency")}
    scores[dimension] = 0.0  # a transcript weak on exactly this dimension
    before = weighted_overall(scores, quality_weights(ScoredTranscriptsConfig(), env.engine))
    config_set(key, "0")
    after = weighted_overall(scores, quality_weights(ScoredTranscriptsConfig(), env.engine))
    assert before < 1.0 and after == 1.0
    assert (
        quality_weights(ScoredTranscriptsConfig(weights={**scores}), env.engine) == scores
    )  # run config wins


# ---- dedup: the library asset's next run ----------------------------------------------------------------


def near_duplicates() -> list[dict[str, Any]]:
    first = json.loads((FIXTURES / "generated_sample.jsonl").read_text().splitlines()[0])
    second = copy.deepcopy(first)
    second["id"] = first["id"] + "-copy"
    second["turns"][1]["text"] = "I am calling about something else entirely, my card was charged twice."
    return [first, second]


@probe("dedup.minhash_threshold", "dedup.flow_content_threshold")
def _dedup(env: Env, key: str) -> None:
    rule = {"dedup.minhash_threshold": "minhash", "dedup.flow_content_threshold": "flow"}[key]

    def decision() -> Any:
        config = library_dedup_config(LibraryConfig(rules=[rule]), env.engine)
        return DedupIndex(config).add_batch(near_duplicates())[1]

    before = decision()
    assert before.rule == rule and before.similarity is not None
    config_set(key, f"{min(1.0, before.similarity + 0.01):.4f}")
    assert decision().rule is None  # kept: below the new threshold


@probe("dedup.semantic_threshold")
def _semantic(env: Env, key: str) -> None:
    assert library_dedup_config(LibraryConfig(), env.engine).threshold("semantic") == 0.95
    config_set(key, "0.9")
    assert library_dedup_config(LibraryConfig(), env.engine).threshold("semantic") == 0.9
    assert library_dedup_config(LibraryConfig(semantic_threshold=0.97), env.engine).semantic_threshold == 0.97


# ---- scoring weights ------------------------------------------------------------------------------------------


@probe("scoring.thermal", "scoring.queue", "scoring.capability", "scoring.history")
def _scoring(env: Env, key: str) -> None:
    component = key.split(".")[1]
    fleet = env.fleet()
    b = fleet.runtime("b")
    if component == "thermal":
        fleet.set_live("b", LiveState(cpu_temp_c=75.0))
    elif component == "queue":
        b.in_flight = 2
    elif component == "capability":
        fleet.runtime("a").tokens_per_s, b.tokens_per_s = 100.0, 10.0
    else:
        b.success_rate = 0.2
    ranked = env.rank()
    assert ranked["a"].score > ranked["b"].score
    config_set(key, "0")
    ranked = env.rank()
    assert ranked["a"].score == ranked["b"].score


# ---- pool: concurrency bounds ------------------------------------------------------------------------------


@probe("pool.min_concurrency", "pool.max_concurrency")
def _bounds(env: Env, key: str) -> None:
    runtime = env.fleet().runtime("a")
    assert (runtime.concurrency.low, runtime.concurrency.high) == (2, 6)
    config_set(key, "1" if key == "pool.min_concurrency" else "3")
    runtime = env.fleet().runtime("a")
    expected = (1, 6) if key == "pool.min_concurrency" else (2, 3)
    assert (runtime.concurrency.low, runtime.concurrency.high) == expected
    assert runtime.concurrency.limit <= runtime.concurrency.high


# ---- retry: the dispatcher's next outcome ------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@probe("retry.max_attempts")
def _max_attempts(env: Env, key: str) -> None:
    dispatcher = Dispatcher(env.fleet())
    assert dispatcher.max_attempts == 3
    config_set(key, "5")
    env.fleet()  # the dispatcher's refresh
    assert dispatcher.max_attempts == 5


@probe("retry.backoff_base_s", "retry.backoff_max_s")
def _backoff(env: Env, key: str) -> None:
    clock = FakeClock()
    dispatcher = Dispatcher(env.fleet(), clock=clock)

    def delay(failures: int) -> float:
        item = WorkItem("k", None, node_failures=failures, tried={"a", "b"})  # no untried node left
        dispatcher._schedule_retry(item, None)
        return item.not_before - clock.now

    assert 8.0 <= delay(5) <= 8.5  # capped at 8 s (+ up to base / 2 of jitter)
    config_set(key, "2" if key == "retry.backoff_base_s" else "16")
    env.fleet()
    if key == "retry.backoff_base_s":
        assert 2.0 <= delay(1) <= 3.0 and delay(5) <= 9.0  # 2 s x 1, capped at 8 s (+ jitter)
    else:
        assert 16.0 <= delay(5) <= 16.5  # 1 s x 16: the ceiling moved


@probe("retry.budget_ratio", "retry.budget_min_retries", "retry.budget_window_s")
def _budget_settings(env: Env, key: str) -> None:
    clock = FakeClock()
    dispatcher = Dispatcher(env.fleet(), clock=clock)
    for _ in range(20):
        dispatcher.budget.record_request()

    def allowed() -> int:
        """Retries that may go now; the next one is booked for later (the budget slows retries down)."""
        n = 0
        while dispatcher.reserve_retry() <= clock.now:
            n += 1
        dispatcher.budget._retries.clear()
        return n

    assert allowed() == 4  # 20 % of 20 requests
    config_set(key, {"retry.budget_ratio": "0.5", "retry.budget_min_retries": "7"}.get(key, "5"))
    env.fleet()
    if key == "retry.budget_window_s":
        clock.now += 6  # the 20 requests fell out of the 5 s window: only the floor of 3 is left
        assert allowed() == 3
    else:
        assert allowed() == {"retry.budget_ratio": 10, "retry.budget_min_retries": 7}[key]


@probe("retry.slot_deadline_s")
def _slot_deadline(env: Env, key: str) -> None:
    clock = FakeClock()
    dispatcher = Dispatcher(env.fleet(), clock=clock)
    item = WorkItem("k", None, faults_since=clock.now - 600)  # meeting transport faults for 10 minutes
    assert not dispatcher._past_deadline(item, clock.now)  # the default deadline is 900 s
    config_set(key, "300")
    env.fleet()
    assert dispatcher._past_deadline(item, clock.now)


# ---- circuit breaker -----------------------------------------------------------------------------------------


def outcomes(breaker: Any, pattern: str) -> str:
    for mark in pattern:
        breaker.record_success() if mark == "+" else breaker.record_failure("HTTP 500")
    return breaker.state


@probe("circuit.failure_threshold")
def _threshold(env: Env, key: str) -> None:
    assert outcomes(env.fleet().runtime("a").circuit, "---") == "closed"
    config_set(key, "3")
    assert outcomes(env.fleet().runtime("b").circuit, "---") == "open"


@probe("circuit.failure_rate")
def _rate(env: Env, key: str) -> None:
    assert outcomes(env.fleet().runtime("a").circuit, "+-+-++-++-") == "closed"  # 4 of 10 < 0.5
    config_set(key, "0.3")
    assert outcomes(env.fleet().runtime("b").circuit, "+-+-++-++-") == "open"


@probe("circuit.min_calls")
def _min_calls(env: Env, key: str) -> None:
    assert outcomes(env.fleet().runtime("a").circuit, "+--+--") == "closed"  # 4 of 6, under 10 calls
    config_set(key, "6")
    assert outcomes(env.fleet().runtime("b").circuit, "+--+--") == "open"


@probe("circuit.window_s")
def _window(env: Env, key: str) -> None:
    config_set("circuit.min_calls", "4")
    config_set(key, "0.2")
    breaker = env.fleet().runtime("a").circuit
    outcomes(breaker, "-+-")
    time.sleep(0.3)  # the three calls leave the window
    assert outcomes(breaker, "++-") == "closed"  # 1 of 3 in the window
    config_set(key, "60")
    breaker = env.fleet().runtime("b").circuit
    outcomes(breaker, "-+-")
    time.sleep(0.3)
    assert outcomes(breaker, "++-") == "open"  # 3 of 6 >= 0.5


@probe("circuit.open_s", "circuit.max_open_s")
def _open(env: Env, key: str) -> None:
    config_set("circuit.failure_threshold", "1")
    breaker = env.fleet().runtime("a").circuit
    outcomes(breaker, "-")
    assert 14.0 < breaker.reopens_in() <= 15.0
    if key == "circuit.open_s":
        config_set(key, "2")
        breaker = env.fleet().runtime("b").circuit
        outcomes(breaker, "-")
        assert 1.0 < breaker.reopens_in() <= 2.0
        return
    config_set("circuit.open_s", "0.05")
    config_set(key, "0.08")
    breaker = env.fleet().runtime("b").circuit
    outcomes(breaker, "-")
    time.sleep(0.06)
    assert breaker.try_acquire() and breaker.state == "half_open"
    outcomes(breaker, "-")  # the probe failed: open for twice as long, but no longer than max_open_s
    assert 0.05 < breaker.reopens_in() <= 0.08


# ---- alerting: routes to a real webhook receiver and SMTP server on loopback ---------------------------------


@pytest.fixture
def routes() -> Iterator[tuple[Webhook, Mailbox, int]]:
    hook = Webhook()
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield hook, box, port
    controller.stop()
    hook.close()


def send(env: Env, node: str = "n") -> Any:
    alert = Alert(key=f"node:{node}:paused", title=f"node {node} paused", text="CPU 97 °C")
    return AlertLog(env.engine).send(alert, env.settings(None).alerting)


def mail_route(port: int) -> None:
    config_set("alerting.email_to", "oncall@example.com")
    config_set("alerting.smtp_host", "127.0.0.1")
    config_set("alerting.smtp_port", str(port))


@probe("alerting.slack_webhook_url")
def _slack(env: Env, key: str) -> None:
    hook, _, _ = env.routes  # type: ignore[attr-defined]
    assert send(env).no_channel
    config_set(key, hook.url)
    assert send(env).sent == ["slack"]
    assert len(hook.bodies) == 1 and "node n paused" in hook.bodies[0]["text"]


@probe("alerting.email_to", "alerting.smtp_host", "alerting.smtp_port")
def _mail(env: Env, key: str) -> None:
    _, box, port = env.routes  # type: ignore[attr-defined]
    mail_route(port)
    assert send(env).sent == ["email"] and len(box.messages) == 1
    config_set(key, {"alerting.email_to": "", "alerting.smtp_host": ""}.get(key, str(free_port())))
    outcome = send(env, "m")
    assert len(box.messages) == 1
    assert outcome.errors if key == "alerting.smtp_port" else outcome.no_channel


@probe("alerting.email_from")
def _from(env: Env, key: str) -> None:
    _, box, port = env.routes  # type: ignore[attr-defined]
    mail_route(port)
    send(env)
    assert box.messages[-1][1]["From"] == "transcript-foundry@localhost"
    config_set(key, "fleet@example.org")
    send(env, "m")
    assert box.messages[-1][1]["From"] == "fleet@example.org"


@probe("alerting.smtp_username", "alerting.smtp_starttls")
def _smtp_session(env: Env, key: str) -> None:
    _, box, port = env.routes  # type: ignore[attr-defined]
    mail_route(port)
    assert not send(env).errors
    config_set(key, "fleet" if key == "alerting.smtp_username" else "true")
    outcome = send(env, "m")  # the loopback server offers neither AUTH nor STARTTLS: asking fails
    assert outcome.errors and len(box.messages) == 1


@probe("alerting.smtp_password")
def _smtp_password(env: Env, key: str) -> None:
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = auth_data.login == b"fleet" and auth_data.password == b"hunter2"
        return AuthResult(success=ok)

    box, port = Mailbox(), free_port()
    controller = Controller(
        box, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        mail_route(port)
        config_set("alerting.smtp_username", "fleet")
        assert send(env).errors and not box.messages  # no password yet: refused
        config_set(key, "hunter2")
        assert send(env, "m").sent == ["email"] and len(box.messages) == 1
    finally:
        controller.stop()


@probe("alerting.cooldown_s")
def _cooldown(env: Env, key: str) -> None:
    hook, _, _ = env.routes  # type: ignore[attr-defined]
    config_set("alerting.slack_webhook_url", hook.url)
    send(env)
    send(env)
    assert len(hook.bodies) == 1  # the second one suppressed for 900 s
    config_set(key, "0")
    send(env)
    assert len(hook.bodies) == 2


@probe("alerting.webserver_base_url")
def _base_url(env: Env, key: str) -> None:
    def text() -> str:
        base = env.settings(None).alerting.webserver_base_url
        return run_failure_alert("generate_shard", "abc123", "r1-s0000", "boom", base).text

    assert "http://" not in text()
    config_set(key, "http://127.0.0.1:3000")
    assert "http://127.0.0.1:3000/runs/abc123" in text()


# ---- schedules: cron times when the code location loads, the rest in each job run -----------------------------


SCHEDULE_OF = {
    "schedules.top_up_cron": "standing_requests_top_up",
    "schedules.compaction_cron": "library_compaction",
    "schedules.report_cron": "report_refresh",
    "schedules.retention_cron": "retention_cleanup",
}


def built_schedules(env: Env) -> dict[str, Any]:
    return {s.name: s for s in build_schedules(env.settings(None).schedules)}


@probe(*SCHEDULE_OF)
def _schedule_cron(env: Env, key: str) -> None:
    assert built_schedules(env)[SCHEDULE_OF[key]].cron_schedule != "7 5 * * *"
    config_set(key, "7 5 * * *")
    assert built_schedules(env)[SCHEDULE_OF[key]].cron_schedule == "7 5 * * *"


@probe("schedules.timezone")
def _schedule_zone(env: Env, key: str) -> None:
    assert {s.execution_timezone for s in built_schedules(env).values()} == {"UTC"}
    config_set(key, "America/Chicago")
    assert {s.execution_timezone for s in built_schedules(env).values()} == {"America/Chicago"}


@probe("schedules.standing_requests")
def _standing(env: Env, key: str) -> None:
    assert plan_top_ups(env.ledger, env.settings(None).schedules.standing()) == []
    config_set(key, "retail:40")
    (top_up,) = plan_top_ups(env.ledger, env.settings(None).schedules.standing())
    assert (top_up.domain, top_up.shortfall) == ("retail", 40)


@probe("schedules.retention_days")
def _retention_days(env: Env, key: str) -> None:
    request_id, _ = submit_request(env.ledger, JobSpec(count=1, domain="retail"), "one", None)
    env.ledger.set_request_status(request_id, "fulfilled")
    time.sleep(0.05)

    def expired() -> list[str]:
        days = env.settings(None).schedules.retention_days
        return [r.request_id for r in expired_requests(env.ledger, datetime.now(UTC) - timedelta(days=days))]

    assert expired() == []
    config_set(key, "0.0000001")  # ~9 ms
    assert expired() == [request_id]


# ---- the tests -----------------------------------------------------------------------------------------------


def test_every_key_has_a_probe_and_a_place_where_it_acts() -> None:
    assert set(PROBES) == set(known_keys()), "a key without a probe, or a probe of a removed key"
    assert set(ACTS_IN) == set(known_keys()), "a key that acts nowhere, or a place for a removed key"
    assert {k.split(".")[0] for k in known_keys()} >= PER_NODE_SECTIONS


@pytest.mark.parametrize("key", known_keys())
def test_config_set_changes_the_next_decision(
    key: str, env: Env, routes: tuple[Webhook, Mailbox, int]
) -> None:
    env.routes = routes  # type: ignore[attr-defined]
    PROBES[key](env)


@pytest.mark.parametrize(
    "key", ["dedup.duplicate_threshold", "quality.threshold", "scoring.latency", "thermal.hot_c"]
)
def test_a_key_that_acts_nowhere_is_refused(key: str, project_home: Path) -> None:
    result = CliRunner().invoke(main, ["config", "set", key, "0.9"])
    assert result.exit_code != 0 and "unknown setting" in result.output


def test_config_show_lists_where_each_key_acts(project_home: Path) -> None:
    result = CliRunner().invoke(main, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)["settings"]
    assert set(shown) == set(known_keys())
    assert all(item["acts"] for item in shown.values())
    assert "sensors/thermal_guard.py" in shown["thermal.cpu_critical_c"]["acts"]
    assert "pool routing" in shown["thermal.cpu_critical_c"]["acts"]
    text = CliRunner().invoke(main, ["config", "show"]).output
    assert "where it acts" in text and "scored_transcripts asset" in text
