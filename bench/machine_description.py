"""The one-line description of the machine every benchmark prints beside its numbers."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(*packages: str) -> str:
    """CPU, cores, RAM, load average, OS, Python, and the versions of ``packages`` (distribution names)."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    parts = [
        cpu_model(),
        f"{os.cpu_count()} cores",
        f"{mem:.0f} GiB RAM",
        f"load average {load}",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
    ]
    for name in packages:
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} not installed")
    return "; ".join(parts)
