"""Hardware discovery: this machine (no GPU, maybe no sensors) and injected NVML / thermal / Pi layers."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest

from transcript_foundry.hardware.gpu_probe import read_gpus
from transcript_foundry.hardware.profile import ProbeSources, classify_node, probe_live, probe_profile
from transcript_foundry.hardware.thermal_probe import parse_measure_temp, read_cpu_thermal

MIB = 1024 * 1024


class FakeNVMLError(Exception):
    pass


def fake_nvml(
    gpus: list[dict[str, Any]], *, init_error: str | None = None, missing: tuple[str, ...] = ()
) -> Any:
    """A pynvml stand-in: the same calls, answering from ``gpus``; calls named in ``missing`` raise."""

    def guard(name: str, value: Any) -> Any:
        if name in missing:
            raise FakeNVMLError("Not Supported")
        return value

    def init() -> None:
        if init_error:
            raise FakeNVMLError(init_error)

    def procs(key: str):  # type: ignore[no-untyped-def]
        return lambda h: guard(key, [SimpleNamespace(**p) for p in gpus[h].get(key, [])])

    return SimpleNamespace(
        NVMLError=FakeNVMLError,
        NVML_TEMPERATURE_GPU=0,
        nvmlInit=init,
        nvmlShutdown=lambda: None,
        nvmlSystemGetCudaDriverVersion=lambda: 12040,
        nvmlDeviceGetCount=lambda: len(gpus),
        nvmlDeviceGetHandleByIndex=lambda i: i,
        nvmlDeviceGetName=lambda h: guard("name", gpus[h]["name"].encode()),
        nvmlDeviceGetMemoryInfo=lambda h: guard(
            "memory", SimpleNamespace(total=gpus[h]["total_mb"] * MIB, free=gpus[h]["free_mb"] * MIB)
        ),
        nvmlDeviceGetTemperatureV=lambda h, s: guard("temperature", gpus[h]["temp"]),
        nvmlDeviceGetTemperature=lambda h, s: guard("temperature", gpus[h]["temp"]),
        nvmlDeviceGetUtilizationRates=lambda h: guard("utilization", SimpleNamespace(gpu=gpus[h]["util"])),
        nvmlDeviceGetComputeRunningProcesses=procs("compute"),
        nvmlDeviceGetGraphicsRunningProcesses=procs("graphics"),
        nvmlDeviceGetCurrentClocksEventReasons=lambda h: guard("reasons", gpus[h].get("reasons", 0)),
    )


def no_sensors() -> dict[str, list[Any]]:
    return {}


def no_vcgencmd(args: list[str]) -> str | None:
    return None


TWO_GPUS = [
    {
        "name": "NVIDIA GeForce RTX 4090",
        "total_mb": 24564,
        "free_mb": 20000,
        "temp": 71,
        "util": 35,
        "graphics": [{"pid": 4242, "usedGpuMemory": 2048 * MIB}],
        "compute": [{"pid": os.getpid(), "usedGpuMemory": 1024 * MIB}],
        "reasons": 0x20,
    },
    {"name": "NVIDIA GeForce RTX 3060", "total_mb": 12288, "free_mb": 12000, "temp": 55, "util": 0},
]


def gpu_sources(tmp_path: Path, **overrides: Any) -> ProbeSources:
    fields: dict[str, Any] = {
        "load_nvml": lambda: fake_nvml(TWO_GPUS),
        "sensors": no_sensors,
        "thermal_root": tmp_path / "no-thermal",
        "vcgencmd": no_vcgencmd,
        "device_model_paths": (tmp_path / "no-model",),
        "has_battery": lambda: False,
        "has_display": lambda: True,
    }
    return ProbeSources(**{**fields, **overrides})


def test_this_machine_reports_what_it_lacks_and_never_crashes() -> None:
    profile = probe_profile()
    live = probe_live(cpu_sample_s=0.0)
    assert profile.cpu_cores == (psutil.cpu_count() or os.cpu_count())
    assert profile.ram_mb > 0 and profile.architecture
    if profile.gpu_count == 0:
        assert profile.unavailable.get("gpu")
        assert "gpu" in live.unavailable and live.gpu_temp_c is None and live.gpu_memory_free_mb is None
    if live.cpu_temp_c is None:
        reason = live.unavailable["cpu_temperature"]
        assert "psutil" in reason and "thermal zones" in reason  # every source tried is named
    assert live.load_avg_1m is not None and live.load_avg_1m >= 0


def test_gpus_through_nvml(tmp_path: Path) -> None:
    sources = gpu_sources(tmp_path)
    profile = probe_profile(sources)
    assert profile.gpu_count == 2 and profile.gpu_memory_mb == 24564 + 12288
    assert profile.gpus[0].name == "NVIDIA GeForce RTX 4090"
    assert {"gpu", "cuda"} <= set(profile.capabilities)
    assert profile.node_type == "gpu_server"  # two GPUs
    live = probe_live(sources, cpu_sample_s=0.0)
    assert live.gpu_temp_c == 71  # the hottest GPU
    assert live.gpu_util_pct == 35
    assert live.gpu_memory_free_mb == 32000
    # Our own process is not "another process"; the game's graphics process is, with its memory.
    assert live.other_gpu_processes == [
        {
            "pid": 4242,
            "name": live.other_gpu_processes[0]["name"],
            "used_memory_mb": 2048,
            "kind": "graphics",
            "gpu": 0,
        }
    ]
    assert "gpu" not in live.unavailable


def test_gpu_thermal_throttle_bits_and_missing_queries(tmp_path: Path) -> None:
    reading = read_gpus(lambda: fake_nvml(TWO_GPUS, missing=("temperature", "compute")))
    assert reading.thermal_throttled == [0]
    assert all(g.temperature_c is None for g in reading.gpus)
    assert reading.unavailable["gpu0.temperature"] == "NVML: Not Supported"
    assert reading.gpus[1].memory_free_mb == 12000  # one query missing spoils nothing else
    live = probe_live(gpu_sources(tmp_path, load_nvml=lambda: fake_nvml(TWO_GPUS, missing=("temperature",))))
    assert live.gpu_temp_c is None and "gpu_temperature" in live.unavailable


def test_no_driver_is_unavailable_not_an_error() -> None:
    reading = read_gpus(lambda: fake_nvml([], init_error="Driver Not Loaded"))
    assert reading.gpus == [] and "Driver Not Loaded" in reading.unavailable["gpu"]

    def not_installed() -> Any:
        raise ImportError("No module named 'pynvml'")

    assert "not installed" in read_gpus(not_installed).unavailable["gpu"]


def _thermal_zone(root: Path, n: int, kind: str, millidegrees: int) -> None:
    zone = root / f"thermal_zone{n}"
    zone.mkdir(parents=True)
    (zone / "type").write_text(kind + "\n")
    (zone / "temp").write_text(f"{millidegrees}\n")


def test_raspberry_pi_by_thermal_zone_and_vcgencmd(tmp_path: Path) -> None:
    root = tmp_path / "thermal"
    _thermal_zone(root, 0, "cpu-thermal", 61_850)
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    calls: list[list[str]] = []

    def vcgencmd(args: list[str]) -> str | None:
        calls.append(args)
        return {"measure_temp": "temp=62.1'C", "get_throttled": "throttled=0x80008"}[args[0]]

    sources = ProbeSources(
        load_nvml=lambda: fake_nvml([], init_error="NVML Shared Library Not Found"),
        sensors=no_sensors,
        thermal_root=root,
        vcgencmd=vcgencmd,
        device_model_paths=(model,),
        has_battery=lambda: None,
        has_display=lambda: False,
    )
    profile = probe_profile(sources)
    assert profile.node_type == "raspberry_pi" and profile.gpu_count == 0
    live = probe_live(sources, cpu_sample_s=0.0)
    assert live.cpu_temp_c == pytest.approx(61.85)  # the thermal zone wins over vcgencmd's rounding
    reading = read_cpu_thermal(sensors=no_sensors, thermal_root=root, vcgencmd=vcgencmd)
    assert (
        reading.source == "thermal_zone"
        and reading.pi_throttled is True
        and reading.pi_under_voltage is False
    )
    assert ["get_throttled"] in calls
    # Without the thermal zone, vcgencmd alone gives the temperature.
    only_vc = read_cpu_thermal(sensors=no_sensors, thermal_root=tmp_path / "none", vcgencmd=vcgencmd)
    assert only_vc.temperature_c == 62.1 and only_vc.source == "vcgencmd"


def test_psutil_cpu_sensors_win_and_ignore_non_cpu_groups(tmp_path: Path) -> None:
    def sensors() -> dict[str, list[Any]]:
        return {
            "nvme": [SimpleNamespace(label="Composite", current=99.0)],
            "coretemp": [
                SimpleNamespace(label="Package id 0", current=67.0),
                SimpleNamespace(label="Core 0", current=64.0),
            ],
        }

    reading = read_cpu_thermal(sensors=sensors, thermal_root=tmp_path, vcgencmd=no_vcgencmd)
    assert reading.temperature_c == 67.0 and reading.source == "psutil"
    only_nvme = read_cpu_thermal(
        sensors=lambda: {"nvme": [SimpleNamespace(current=50.0)]}, thermal_root=tmp_path, vcgencmd=no_vcgencmd
    )
    assert (
        only_nvme.temperature_c is None and "groups found: nvme" in only_nvme.unavailable["cpu_temperature"]
    )


def test_parse_measure_temp_and_node_kinds() -> None:
    assert parse_measure_temp("temp=48.3'C") == 48.3
    assert parse_measure_temp("error") is None
    common = {"model": None, "cpu_cores": 8, "has_display": True}
    assert classify_node(gpu_count=0, gpu_memory_mb=0, has_battery=True, **common) == "laptop"
    assert classify_node(gpu_count=1, gpu_memory_mb=24000, has_battery=False, **common) == "desktop"
    assert classify_node(gpu_count=1, gpu_memory_mb=81920, has_battery=False, **common) == "gpu_server"
    assert classify_node(gpu_count=0, gpu_memory_mb=0, has_battery=False, **common) == "desktop"
    assert (
        classify_node(
            model=None, cpu_cores=2, has_display=False, gpu_count=0, gpu_memory_mb=0, has_battery=None
        )
        == "cpu_server"
    )
