"""NVIDIA GPUs through NVML (``nvidia-ml-py``, module ``pynvml``): names, memory, temperature, utilisation,
thermal throttling and the other programs' processes on each GPU.

Every reading is guarded on its own: a machine without the NVIDIA driver gets no GPUs and the reason
(``unavailable["gpu"]``); a GPU whose driver lacks one query (an old driver without per-process lists, a
GPU without a temperature sensor) keeps everything else and names the query in ``unavailable``.
The NVML layer is injectable (``load_nvml``) so the GPU path is tested on machines without a GPU.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from transcript_foundry.hardware.node_telemetry import GpuInfo

MIB = 1024 * 1024
# nvmlDeviceGetCurrentClocksEventReasons bits that mean "slowed down by heat" (HwSlowdown, SW/HW thermal).
THERMAL_THROTTLE_BITS = 0x8 | 0x20 | 0x40


def load_pynvml() -> Any:
    import pynvml

    return pynvml


@dataclass
class GpuReading:
    gpus: list[GpuInfo] = field(default_factory=list)
    thermal_throttled: list[int] = field(default_factory=list)  # indexes of GPUs slowed down by heat
    cuda_driver_version: int | None = None
    unavailable: dict[str, str] = field(default_factory=dict)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _process_name(pid: int) -> str:
    try:
        return psutil.Process(pid).name()
    except (psutil.Error, OSError):
        return "?"  # gone already, or another user's process in a container


def _temperature(nvml: Any, handle: Any) -> float:
    sensor = getattr(nvml, "NVML_TEMPERATURE_GPU", 0)
    if hasattr(nvml, "nvmlDeviceGetTemperatureV"):  # the old call goes away with CUDA 14
        try:
            return float(nvml.nvmlDeviceGetTemperatureV(handle, sensor))
        except nvml.NVMLError:
            pass  # older drivers lack the versioned call: fall back to the classic one
    return float(nvml.nvmlDeviceGetTemperature(handle, sensor))


def _other_processes(nvml: Any, handle: Any, own_pids: set[int]) -> list[dict[str, object]]:
    seen: dict[int, dict[str, object]] = {}
    for query in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
        kind = "compute" if "Compute" in query else "graphics"
        for proc in getattr(nvml, query)(handle):
            pid = int(proc.pid)
            if pid in own_pids:
                continue
            used = getattr(proc, "usedGpuMemory", None)
            entry = seen.setdefault(
                pid, {"pid": pid, "name": _process_name(pid), "used_memory_mb": 0, "kind": kind}
            )
            if isinstance(used, int) and used > 0:
                entry["used_memory_mb"] = max(int(entry["used_memory_mb"]), used // MIB)  # type: ignore[call-overload]
            if entry["kind"] != kind:
                entry["kind"] = "compute+graphics"
    return list(seen.values())


def _guarded(unavailable: dict[str, str], key: str, nvml: Any, read: Callable[[], Any]) -> Any:
    try:
        return read()
    except nvml.NVMLError as exc:
        unavailable[key] = f"NVML: {exc}"
    except (AttributeError, TypeError) as exc:  # a pynvml without this call
        unavailable[key] = f"NVML call unsupported: {exc}"
    return None


def read_gpus(load_nvml: Callable[[], Any] = load_pynvml, own_pids: set[int] | None = None) -> GpuReading:
    """One reading of every NVIDIA GPU; ``own_pids`` (default: this process) are not 'other processes'."""
    reading = GpuReading()
    own = own_pids if own_pids is not None else {os.getpid()}
    try:
        nvml = load_nvml()
    except ImportError as exc:
        reading.unavailable["gpu"] = f"nvidia-ml-py is not installed ({exc})"
        return reading
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        reading.unavailable["gpu"] = f"no NVIDIA driver answers NVML ({exc})"
        return reading
    try:
        reading.cuda_driver_version = _guarded(
            reading.unavailable, "cuda_version", nvml, nvml.nvmlSystemGetCudaDriverVersion
        )
        count = int(nvml.nvmlDeviceGetCount())
        if count == 0:
            reading.unavailable["gpu"] = "NVML found no NVIDIA GPU"
        for index in range(count):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)

            def get(key: str, read: Callable[[], Any], i: int = index) -> Any:
                return _guarded(reading.unavailable, f"gpu{i}.{key}", nvml, read)

            name = get("name", lambda h=handle: _text(nvml.nvmlDeviceGetName(h))) or f"GPU {index}"
            memory = get("memory", lambda h=handle: nvml.nvmlDeviceGetMemoryInfo(h))
            temperature = get("temperature", lambda h=handle: _temperature(nvml, h))
            utilization = get("utilization", lambda h=handle: nvml.nvmlDeviceGetUtilizationRates(h))
            processes = get("processes", lambda h=handle: _other_processes(nvml, h, own))
            reasons = get("throttle_reasons", lambda h=handle: _clock_event_reasons(nvml, h))
            if isinstance(reasons, int) and reasons & THERMAL_THROTTLE_BITS:
                reading.thermal_throttled.append(index)
            reading.gpus.append(
                GpuInfo(
                    index=index,
                    name=name,
                    memory_total_mb=int(memory.total) // MIB if memory is not None else 0,
                    memory_free_mb=int(memory.free) // MIB if memory is not None else None,
                    temperature_c=temperature,
                    utilization_pct=float(utilization.gpu) if utilization is not None else None,
                    other_processes=processes or [],
                )
            )
    except nvml.NVMLError as exc:
        reading.unavailable["gpu"] = f"NVML failed while listing GPUs ({exc})"
    finally:
        with contextlib.suppress(nvml.NVMLError):  # a half-initialised library: nothing left to release
            nvml.nvmlShutdown()
    return reading


def _clock_event_reasons(nvml: Any, handle: Any) -> int:
    if hasattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons"):
        return int(nvml.nvmlDeviceGetCurrentClocksEventReasons(handle))
    return int(nvml.nvmlDeviceGetCurrentClocksThrottleReasons(handle))
