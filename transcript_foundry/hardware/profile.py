"""Hardware discovery of the local machine: what it is (``probe_profile``) and how it is doing
(``probe_live``).

psutil gives cores, RAM, utilisation, load and (Linux) hwmon temperatures; NVML gives the NVIDIA GPUs
(``transcript_foundry/hardware/gpu_probe.py``); the thermal zones and ``vcgencmd`` give the CPU temperature where hwmon does
not, e.g. on a Raspberry Pi (``transcript_foundry/hardware/thermal_probe.py``). A probe the platform lacks is named in
``unavailable`` with its reason; nothing raises on a machine without a GPU or sensors. ``ProbeSources``
carries every platform layer so tests can inject a fake GPU or a fake Pi.
"""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from transcript_foundry.hardware.gpu_probe import GpuReading, load_pynvml, read_gpus
from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState, NodeType
from transcript_foundry.hardware.thermal_probe import (
    THERMAL_ROOT,
    CpuThermalReading,
    SensorsFn,
    VcgencmdFn,
    psutil_sensors,
    read_cpu_thermal,
    run_vcgencmd,
)

MIB = 1024 * 1024
DEVICE_MODEL_PATHS = (Path("/proc/device-tree/model"), Path("/sys/firmware/devicetree/base/model"))
GPU_SERVER_MIN_MEMORY_MB = 40_000  # one data-centre card (A100 40 GB and up) or several GPUs
CPU_SERVER_MIN_CORES = 16
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "f16c", "fma")


@dataclass(frozen=True)
class ProbeSources:
    """The platform layers the probes read; the defaults are the real ones."""

    load_nvml: Callable[[], Any] = load_pynvml
    sensors: SensorsFn = psutil_sensors
    thermal_root: Path = THERMAL_ROOT
    vcgencmd: VcgencmdFn = run_vcgencmd
    device_model_paths: tuple[Path, ...] = DEVICE_MODEL_PATHS
    cpuinfo_path: Path = Path("/proc/cpuinfo")
    has_battery: Callable[[], bool | None] = field(default=lambda: _has_battery())
    has_display: Callable[[], bool] = field(default=lambda: _has_display())
    own_pids: frozenset[int] | None = None  # processes that are ours on the GPU (default: this one)


def _has_battery() -> bool | None:
    read = getattr(psutil, "sensors_battery", None)
    if read is None:
        return None
    try:
        return read() is not None
    except (OSError, RuntimeError):
        return None


def _has_display() -> bool:
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return True
    x11 = Path("/tmp/.X11-unix")
    return x11.is_dir() and any(x11.iterdir())


def device_model(sources: ProbeSources) -> str | None:
    """The board's name from the device tree (``Raspberry Pi 5 Model B Rev 1.0``), or None."""
    for path in sources.device_model_paths:
        try:
            return path.read_bytes().rstrip(b"\x00").decode("utf-8", "replace").strip() or None
        except OSError:
            continue
    return None


def _cpu_flags(sources: ProbeSources, unavailable: dict[str, str]) -> list[str]:
    try:
        text = sources.cpuinfo_path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        unavailable["cpu_flags"] = f"cannot read {sources.cpuinfo_path}: {exc.strerror}"
        return []
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
    found = [f for f in CPU_FLAGS if f in flags]
    if "asimd" in flags or "neon" in flags:
        found.append("neon")
    return found


def classify_node(
    *,
    model: str | None,
    gpu_count: int,
    gpu_memory_mb: int,
    cpu_cores: int,
    has_battery: bool | None,
    has_display: bool,
) -> NodeType:
    """A best guess of the machine's kind, used for defaults and display (an agent may override it)."""
    if model and "raspberry pi" in model.lower():
        return "raspberry_pi"
    if has_battery:
        return "laptop"
    if gpu_count:
        if gpu_count >= 2 or gpu_memory_mb >= GPU_SERVER_MIN_MEMORY_MB or not has_display:
            return "gpu_server"
        return "desktop"
    if cpu_cores >= CPU_SERVER_MIN_CORES or not has_display:
        return "cpu_server"
    return "desktop"


def _gpu_capabilities(reading: GpuReading) -> list[str]:
    return ["gpu", "cuda"] if reading.gpus else []  # NVML only sees NVIDIA (CUDA) GPUs


def probe_profile(sources: ProbeSources | None = None) -> HardwareProfile:
    """What this machine is: kind, architecture, cores, RAM, GPUs, capabilities."""
    sources = sources or ProbeSources()
    unavailable: dict[str, str] = {}
    own = set(sources.own_pids) if sources.own_pids is not None else None
    gpus = read_gpus(sources.load_nvml, own)
    unavailable.update(gpus.unavailable)
    model = device_model(sources)
    if model is None:
        unavailable["board_model"] = "no device-tree model (not a single-board computer)"
    cpu_cores = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    gpu_memory_mb = sum(g.memory_total_mb for g in gpus.gpus)
    capabilities = [*_gpu_capabilities(gpus), *_cpu_flags(sources, unavailable)]
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        capabilities.append("metal")
    node_type = classify_node(
        model=model,
        gpu_count=len(gpus.gpus),
        gpu_memory_mb=gpu_memory_mb,
        cpu_cores=cpu_cores,
        has_battery=sources.has_battery(),
        has_display=sources.has_display(),
    )
    return HardwareProfile(
        hostname=socket.gethostname(),
        node_type=node_type,
        architecture=platform.machine() or "unknown",
        cpu_cores=cpu_cores,
        ram_mb=psutil.virtual_memory().total // MIB,
        gpu_count=len(gpus.gpus),
        gpu_memory_mb=gpu_memory_mb,
        gpus=gpus.gpus,
        capabilities=capabilities,
        unavailable=unavailable,
    )


def _load_average(unavailable: dict[str, str]) -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError) as exc:
        unavailable["load_average"] = f"the platform has no load average ({exc})"
        return None


def live_from_readings(
    cpu: CpuThermalReading, gpus: GpuReading, *, cpu_util_pct: float | None, load_avg: float | None
) -> LiveState:
    """Fold one CPU and one GPU reading into the LiveState a heartbeat sends."""
    unavailable = {**cpu.unavailable, **gpus.unavailable}
    temps = [g.temperature_c for g in gpus.gpus if g.temperature_c is not None]
    utils = [g.utilization_pct for g in gpus.gpus if g.utilization_pct is not None]
    free = [g.memory_free_mb for g in gpus.gpus if g.memory_free_mb is not None]
    if gpus.gpus and not temps:
        unavailable.setdefault("gpu_temperature", "no GPU reported a temperature")
    others = [{**p, "gpu": g.index} for g in gpus.gpus for p in g.other_processes]
    return LiveState(
        cpu_temp_c=cpu.temperature_c,
        gpu_temp_c=max(temps) if temps else None,
        cpu_util_pct=cpu_util_pct,
        gpu_util_pct=max(utils) if utils else None,
        gpu_memory_free_mb=sum(free) if free else None,
        load_avg_1m=load_avg,
        other_gpu_processes=others,
        unavailable=unavailable,
    )


def probe_live(sources: ProbeSources | None = None, *, cpu_sample_s: float = 0.1) -> LiveState:
    """How this machine is doing now: temperatures, utilisation, free VRAM, other GPU processes."""
    sources = sources or ProbeSources()
    own = set(sources.own_pids) if sources.own_pids is not None else None
    cpu = read_cpu_thermal(
        sensors=sources.sensors, thermal_root=sources.thermal_root, vcgencmd=sources.vcgencmd
    )
    gpus = read_gpus(sources.load_nvml, own)
    extra: dict[str, str] = {}
    load_avg = _load_average(extra)
    live = live_from_readings(
        cpu, gpus, cpu_util_pct=psutil.cpu_percent(interval=cpu_sample_s), load_avg=load_avg
    )
    return live.model_copy(update={"unavailable": {**live.unavailable, **extra}}) if extra else live
