"""Idle time of the X11 session from ``xprintidle`` (XScreenSaver extension): milliseconds since input."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

from sensors.probes.command_runner import CommandRunner, run_command
from sensors.probes.probe_result import ProbeResult

PROBE = "x11_idle"


def x11_idle_probe(
    idle_after_s: float, run: CommandRunner = run_command, environ: Mapping[str, str] | None = None
) -> ProbeResult:
    env = os.environ if environ is None else environ
    if not env.get("DISPLAY"):
        return ProbeResult.unavailable(PROBE, "no X11 display (DISPLAY is unset)")
    try:
        idle_ms = int(run(["xprintidle"]).strip())
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return ProbeResult.unavailable(PROBE, f"xprintidle gave nothing ({exc})")
    idle_s = idle_ms / 1000
    return ProbeResult(PROBE, True, idle_s >= idle_after_s, f"no keyboard / mouse input for {idle_s:.0f} s")
