"""User presence: a camera device (``/dev/video*``) held open by some process (``/proc/<pid>/fd`` links).

Only processes whose ``fd`` folder we may read are seen (all of them as root, our user's otherwise).
"""

from __future__ import annotations

import os
from pathlib import Path

from sensors.probes.probe_result import ProbeResult

PROBE = "camera"


def _holders(proc: Path, prefix: str) -> tuple[list[str], int]:
    """(names of processes with an fd whose link starts with ``prefix``, processes we could not read)."""
    holders, unreadable = [], 0
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (pid_dir / "fd").iterdir()]
        except OSError:
            unreadable += 1
            continue
        if any(link.startswith(prefix) for link in links):
            try:
                name = (pid_dir / "comm").read_text().strip()
            except OSError:
                name = pid_dir.name
            holders.append(f"{name} (pid {pid_dir.name})")
    return holders, unreadable


def camera_probe(proc: Path = Path("/proc"), dev: Path = Path("/dev")) -> ProbeResult:
    if not proc.is_dir():
        return ProbeResult.unavailable(PROBE, f"no {proc} filesystem on this platform")
    devices = sorted(p.name for p in dev.glob("video*")) if dev.is_dir() else []
    if not devices:
        return ProbeResult.unavailable(PROBE, f"no camera devices ({dev}/video*)")
    holders, unreadable = _holders(proc, str(dev / "video"))
    hidden = f"; {unreadable} process(es) not readable" if unreadable else ""
    if holders:
        return ProbeResult(PROBE, True, True, f"{', '.join(devices)} in use by {', '.join(holders)}")
    return ProbeResult(PROBE, True, False, f"{', '.join(devices)} not in use{hidden}")
