"""CPU temperature: psutil's hwmon sensors, else the kernel's thermal zones, else (Raspberry Pi)
``vcgencmd measure_temp``; plus the Pi firmware's throttling flags (``vcgencmd get_throttled``).

Each source is injectable (a thermal root folder, a sensors function, a vcgencmd runner) so the Pi and
desktop paths are tested on any machine. Where no source answers, the temperature is ``None`` and the
reason names every source tried.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

THERMAL_ROOT = Path("/sys/class/thermal")
# psutil sensor groups that measure the CPU package (hwmon names); nvme, wifi, acpitz are not the CPU.
CPU_SENSOR_GROUPS = ("coretemp", "k10temp", "zenpower", "cpu_thermal", "cpu-thermal", "soc_thermal", "cpu")
# thermal zone types that are the CPU / SoC
CPU_ZONE_TYPES = ("x86_pkg_temp", "cpu-thermal", "cpu_thermal", "soc-thermal", "soc_thermal", "cpu")
# vcgencmd get_throttled: bit 2 "throttled now", bit 3 "soft temperature limit active now".
PI_THROTTLED_NOW_BITS = 0x4 | 0x8
PI_UNDER_VOLTAGE_BIT = 0x1

SensorsFn = Callable[[], dict[str, list[Any]]]
VcgencmdFn = Callable[[list[str]], str | None]


def run_vcgencmd(args: list[str]) -> str | None:
    """The output of ``vcgencmd <args>``, or None where the tool is absent or fails."""
    tool = shutil.which("vcgencmd")
    if tool is None:
        return None
    try:
        done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=2, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def psutil_sensors() -> dict[str, list[Any]]:
    read = getattr(psutil, "sensors_temperatures", None)  # absent on macOS and Windows
    return read() if read is not None else {}


@dataclass
class CpuThermalReading:
    temperature_c: float | None = None
    source: str | None = None  # which source gave the value
    pi_throttled: bool | None = None  # firmware throttling now (Raspberry Pi only)
    pi_under_voltage: bool | None = None
    unavailable: dict[str, str] = field(default_factory=dict)


def _from_psutil(sensors: SensorsFn) -> tuple[float | None, str]:
    try:
        groups = sensors()
    except (OSError, RuntimeError) as exc:
        return None, f"psutil sensors failed: {exc}"
    readings = [
        float(entry.current)
        for name in CPU_SENSOR_GROUPS
        for entry in groups.get(name, [])
        if getattr(entry, "current", None) is not None
    ]
    if readings:
        return max(readings), ""
    found = ", ".join(sorted(groups)) or "none"
    return None, f"psutil reports no CPU sensor (groups found: {found})"


def _from_thermal_zones(root: Path) -> tuple[float | None, str]:
    zones = sorted(root.glob("thermal_zone*")) if root.is_dir() else []
    if not zones:
        return None, f"no thermal zones under {root}"
    cpu_values: list[float] = []
    any_values: list[float] = []
    for zone in zones:
        try:
            millidegrees = int((zone / "temp").read_text().strip())
            kind = (zone / "type").read_text().strip().lower() if (zone / "type").exists() else ""
        except (OSError, ValueError):
            continue  # an unreadable zone (permission, sensor asleep): the others still count
        value = millidegrees / 1000.0
        any_values.append(value)
        if any(kind.startswith(t) for t in CPU_ZONE_TYPES):
            cpu_values.append(value)
    values = cpu_values or any_values
    if not values:
        return None, f"thermal zones under {root} could not be read"
    return max(values), ""


def parse_measure_temp(output: str) -> float | None:
    """``temp=48.3'C`` -> 48.3"""
    match = re.search(r"temp=([-\d.]+)", output)
    return float(match.group(1)) if match else None


def read_cpu_thermal(
    *,
    sensors: SensorsFn = psutil_sensors,
    thermal_root: Path = THERMAL_ROOT,
    vcgencmd: VcgencmdFn = run_vcgencmd,
) -> CpuThermalReading:
    reading = CpuThermalReading()
    reasons = []
    value, why = _from_psutil(sensors)
    if value is not None:
        reading.temperature_c, reading.source = value, "psutil"
    else:
        reasons.append(why)
        value, why = _from_thermal_zones(thermal_root)
        if value is not None:
            reading.temperature_c, reading.source = value, "thermal_zone"
        else:
            reasons.append(why)
    measured = vcgencmd(["measure_temp"])
    if measured is not None:
        pi_value = parse_measure_temp(measured)
        if pi_value is not None and reading.temperature_c is None:
            reading.temperature_c, reading.source = pi_value, "vcgencmd"
        throttled = vcgencmd(["get_throttled"])
        if throttled and "=" in throttled:
            try:
                bits = int(throttled.split("=", 1)[1], 16)
            except ValueError:
                reading.unavailable["pi_throttled"] = f"vcgencmd get_throttled said {throttled!r}"
            else:
                reading.pi_throttled = bool(bits & PI_THROTTLED_NOW_BITS)
                reading.pi_under_voltage = bool(bits & PI_UNDER_VOLTAGE_BIT)
    elif reading.temperature_c is None:
        reasons.append("vcgencmd is not installed (not a Raspberry Pi)")
    if reading.temperature_c is None:
        reading.unavailable["cpu_temperature"] = "; ".join(reasons)
    return reading
