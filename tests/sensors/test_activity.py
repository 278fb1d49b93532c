"""The activity sensor: probes (on real and hand-built /proc trees), the decision, the sensor end to end."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from dagster import DagsterInstance, DagsterRunStatus, SensorResult, build_sensor_context
from dagster._core.test_utils import create_run_for_test

from resources.ledger import Ledger
from sensors.activity import LocalProbes, build_activity_sensor
from sensors.activity_policy import activity_verdict
from sensors.node_readings import NodeReading
from sensors.probes.camera import camera_probe
from sensors.probes.gpu_processes import gaming_probe
from sensors.probes.load_idle import load_idle_probe
from sensors.probes.logind_idle import logind_idle_probe
from sensors.probes.microphone import microphone_probe
from sensors.probes.probe_result import ProbeResult
from sensors.probes.work_hours import work_hours_probe
from sensors.probes.x11_idle import x11_idle_probe
from sensors.thermal_guard import build_thermal_guard_sensor
from transcript_assets.cli.main import main
from transcript_assets.definitions import build_resources, request_intake_sensor
from transcript_foundry.hardware.node_telemetry import LiveState
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.store import SettingsStore

ACTIVITY = SettingsStore(None, environ={}).load("test-host").settings.activity
TUESDAY_10AM = datetime(2026, 12, 1, 10, 0)
SATURDAY_10AM = datetime(2026, 12, 5, 10, 0)


def fails(argv: list[str]) -> str:
    raise FileNotFoundError(f"{argv[0]} is not installed")


# ---- probes ----------------------------------------------------------------------------------------------
def test_camera_probe_reads_fd_links(tmp_path: Path) -> None:
    proc, dev = tmp_path / "proc", tmp_path / "dev"
    (proc / "4242" / "fd").mkdir(parents=True)
    (proc / "4242" / "comm").write_text("zoom\n")
    (proc / "self").mkdir()
    dev.mkdir()
    assert camera_probe(proc, dev).detail.startswith("unavailable: no camera devices")
    (dev / "video0").touch()
    idle = camera_probe(proc, dev)
    assert idle.available and not idle.active
    os.symlink(dev / "video0", proc / "4242" / "fd" / "7")
    used = camera_probe(proc, dev)
    assert used.active and "video0 in use by zoom (pid 4242)" in used.detail


def test_camera_probe_on_this_machine_says_what_it_can() -> None:
    result = camera_probe()
    assert result.probe == "camera"
    assert result.available or result.detail.startswith("unavailable: ")


def test_microphone_probe_alsa_then_pactl(tmp_path: Path) -> None:
    asound = tmp_path / "asound"
    assert "unavailable: no ALSA capture devices" in microphone_probe(asound, fails).detail
    pactl_says = lambda argv: "42\t1\t7\tprotocol-native.c\tfloat32le 1ch 48000Hz\n"  # noqa: E731
    assert microphone_probe(asound, pactl_says).active
    status = asound / "card0" / "pcm0c" / "sub0" / "status"
    status.parent.mkdir(parents=True)
    status.write_text("closed\n")
    quiet = microphone_probe(asound, fails)
    assert quiet.available and not quiet.active and "none running" in quiet.detail
    status.write_text("state: RUNNING\nowner_pid   : 99\n")
    recording = microphone_probe(asound, fails)
    assert recording.active and "card0/pcm0c/sub0" in recording.detail


def test_idle_probes() -> None:
    assert x11_idle_probe(600, environ={}).detail == "unavailable: no X11 display (DISPLAY is unset)"
    assert x11_idle_probe(600, lambda argv: "700000\n", {"DISPLAY": ":0"}).active
    assert not x11_idle_probe(600, lambda argv: "5000\n", {"DISPLAY": ":0"}).active
    assert not x11_idle_probe(600, fails, {"DISPLAY": ":0"}).available

    def loginctl(idle: str):  # type: ignore[no-untyped-def]
        def run(argv: list[str]) -> str:
            if argv[1] == "list-sessions":
                return "  3 1000 alice seat0 tty2\n"
            return f"IdleHint={idle}\nIdleSinceHint=1\nType=wayland\n"

        return run

    assert logind_idle_probe(600, loginctl("yes")).active
    active = logind_idle_probe(600, loginctl("no"))
    assert active.available and not active.active and "IdleHint=no" in active.detail
    assert not logind_idle_probe(600, fails).available
    assert load_idle_probe(0.3, load_1m=0.2, cpus=2).active
    assert not load_idle_probe(0.3, load_1m=1.5, cpus=2).active


def test_work_hours_and_gaming_probes() -> None:
    assert work_hours_probe(TUESDAY_10AM, ACTIVITY).active
    assert not work_hours_probe(SATURDAY_10AM, ACTIVITY).active
    assert not work_hours_probe(datetime(2026, 12, 1, 17, 0), ACTIVITY).active  # the end is exclusive
    night = ACTIVITY.model_copy(update={"work_hours": "22:00-06:00", "work_days": list(ACTIVITY.work_days)})
    assert work_hours_probe(datetime(2026, 12, 1, 23, 30), night).active
    none = ACTIVITY.model_copy(update={"work_hours": ""})
    assert work_hours_probe(TUESDAY_10AM, none).detail.startswith("unavailable: no work hours")

    game = {"pid": 7, "name": "eldenring.exe", "used_memory_mb": 6000}
    assert gaming_probe(LiveState(gpu_util_pct=97, other_gpu_processes=[game]), ACTIVITY).active
    assert gaming_probe(LiveState(gpu_util_pct=10, other_gpu_processes=[game]), ACTIVITY).active  # VRAM
    light = {"pid": 8, "name": "Xorg", "used_memory_mb": 80}
    assert not gaming_probe(LiveState(gpu_util_pct=5, other_gpu_processes=[light]), ACTIVITY).active
    assert not gaming_probe(LiveState(unavailable={"gpu": "no NVIDIA driver"}), ACTIVITY).available


# ---- decision --------------------------------------------------------------------------------------------
def probe(name: str, active: bool, available: bool = True) -> ProbeResult:
    return ProbeResult(name, available, active, "seen" if available else "unavailable: test")


def test_activity_decision_names_the_probe() -> None:
    quiet = probe("gpu_processes", False)
    gaming = activity_verdict(probe("gpu_processes", True), [], probe("work_hours", True), [], ACTIVITY)
    assert (gaming.state, gaming.driver) == ("paused", "gpu_processes")
    present = activity_verdict(
        quiet, [probe("camera", False), probe("microphone", True)], probe("work_hours", False), [], ACTIVITY
    )
    assert (present.state, present.driver) == ("paused", "microphone") and "user present" in present.reason
    ignored = ACTIVITY.model_copy(update={"presence_suspends": False})
    assert (
        activity_verdict(quiet, [probe("camera", True)], probe("work_hours", False), [], ignored).state
        == "normal"
    )
    work = activity_verdict(quiet, [], probe("work_hours", True), [], ACTIVITY)
    assert (work.state, work.throttle_factor, work.driver) == ("throttled", 0.5, "work_hours")
    idle = activity_verdict(
        quiet,
        [],
        probe("work_hours", False),
        [probe("x11_idle", False, False), probe("logind_idle", True)],
        ACTIVITY,
    )
    assert idle.state == "normal" and idle.idle and "logind_idle" in idle.idle_reason
    unknown = activity_verdict(
        quiet, [], probe("work_hours", False), [probe("x11_idle", False, False)], ACTIVITY
    )
    assert not unknown.idle and "idleness unknown" in unknown.idle_reason


# ---- the sensor ------------------------------------------------------------------------------------------
class Readings:
    def __init__(self) -> None:
        self.live: dict[str, LiveState] = {
            "local": LiveState(cpu_temp_c=60),
            "gpu-b": LiveState(cpu_temp_c=60),
        }

    def read(self) -> dict[str, NodeReading]:
        return {
            n: NodeReading(n, "this-host" if n == "local" else n, live, n == "local")
            for n, live in self.live.items()
        }


class Machine:
    """The local machine's probe answers, set by each test step."""

    def __init__(self) -> None:
        self.now, self.idle, self.camera = SATURDAY_10AM, False, False

    def probes(self) -> LocalProbes:
        return LocalProbes(
            idle=[lambda s: probe("x11_idle", self.idle)],
            presence=[lambda: probe("camera", self.camera), lambda: probe("microphone", False, False)],
            clock=lambda: self.now,
        )


def run_tick(sensor, ledger: Ledger, instance: DagsterInstance) -> SensorResult:  # type: ignore[no-untyped-def]
    with build_sensor_context(
        instance=instance, resources={"ledger": ledger, "llm_pool": build_resources()["llm_pool"]}
    ) as context:
        result = sensor(context)
    assert isinstance(result, SensorResult)
    return result


@pytest.fixture
def ledger(project_home: Path) -> Ledger:
    return Ledger(url=project_paths().state_url)


def test_activity_sensor_transitions_and_combination_with_thermal(ledger: Ledger) -> None:
    instance = DagsterInstance.ephemeral()
    readings, machine = Readings(), Machine()
    activity = build_activity_sensor([], readings_factory=lambda e, p: readings, probes=machine.probes())
    controls = NodeControls(ledger.engine)
    readings.live["gpu-b"] = LiveState(gpu_util_pct=95, other_gpu_processes=[{"pid": 1, "name": "game.exe"}])
    machine.now = TUESDAY_10AM
    first = run_tick(activity, ledger, instance).skip_reason.skip_message
    assert (controls.get("local").state, controls.get("local").throttle_factor) == ("throttled", 0.5)
    assert controls.get("gpu-b").paused
    assert "gpu-b: paused [by gpu_processes] (gaming mode: gpu_processes: game.exe on the GPU at 95%" in first
    assert "local: throttled [by work_hours]" in first

    machine.camera = True
    run_tick(activity, ledger, instance)
    assert controls.get("local").paused and "camera" in controls.get("local").reason

    # The thermal guard pauses the local node for heat; activity turning normal does not lift that.
    hot = {"local": NodeReading("local", "this-host", LiveState(cpu_temp_c=97), True)}
    thermal = build_thermal_guard_sensor(lambda e, p: type("R", (), {"read": lambda self: hot})())
    run_tick(thermal, ledger, instance)
    machine.camera, machine.now = False, SATURDAY_10AM
    run_tick(activity, ledger, instance)
    local = controls.get("local")
    assert local.paused and local.source == "thermal_guard" and "CPU 97.0 °C" in local.reason
    hot["local"] = NodeReading("local", "this-host", LiveState(cpu_temp_c=60), True)
    run_tick(thermal, ledger, instance)
    assert controls.get("local").state == "normal"
    readings.live["gpu-b"] = LiveState(gpu_util_pct=3)
    run_tick(activity, ledger, instance)
    assert controls.get("gpu-b").state == "normal"
    transitions = [(e["node_id"], e["to_state"], e["source"]) for e in reversed(controls.events())]
    # One event per change of state: the cause moving from the camera to the heat is not a new state.
    assert transitions == [
        ("gpu-b", "paused", "activity"),
        ("local", "throttled", "activity"),
        ("local", "paused", "activity"),
        ("local", "normal", "thermal_guard"),
        ("gpu-b", "normal", "activity"),
    ]


def test_idle_machine_gets_an_extra_shard(ledger: Ledger) -> None:
    instance = DagsterInstance.ephemeral()
    readings, machine = Readings(), Machine()
    del readings.live["gpu-b"]
    activity = build_activity_sensor([], readings_factory=lambda e, p: readings, probes=machine.probes())
    CliRunner().invoke(main, ["submit", "Generate 30 retail transcripts"])
    with build_sensor_context(
        instance=instance, resources={"ledger": ledger, "llm_pool": build_resources()["llm_pool"]}
    ) as context:
        intake = request_intake_sensor(context)
    (first,) = intake.run_requests
    for request in intake.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    create_run_for_test(instance, job_name="generate_shard", tags=first.tags, status=DagsterRunStatus.STARTED)

    busy = run_tick(activity, ledger, instance)
    assert not busy.run_requests  # nobody idle: the intake's one shard at a time
    machine.idle = True
    idle = run_tick(activity, ledger, instance)
    (extra,) = idle.run_requests
    assert extra.partition_key.endswith("-s0001") and extra.run_key == f"shard:{extra.partition_key}#1"
    assert [list(r.partition_keys) for r in idle.dynamic_partitions_requests] == [[extra.partition_key]]
    create_run_for_test(instance, job_name="generate_shard", tags=extra.tags, status=DagsterRunStatus.STARTED)
    again = run_tick(activity, ledger, instance)
    assert not again.run_requests  # 1 + idle_extra_shards (1) in flight: enough


def test_run_command_reports_a_missing_tool() -> None:
    from sensors.probes.command_runner import run_command

    with pytest.raises(FileNotFoundError, match="is not installed"):
        run_command(["surely-not-a-real-command-xyz"])
    with pytest.raises(subprocess.SubprocessError, match="exited 1"):
        run_command(["false"])
