"""Idleness from systemd-logind: a graphical or console session's ``IdleHint`` (``loginctl``)."""

from __future__ import annotations

import subprocess
import time

from sensors.probes.command_runner import CommandRunner, run_command
from sensors.probes.probe_result import ProbeResult

PROBE = "logind_idle"


def _properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def logind_idle_probe(idle_after_s: float, run: CommandRunner = run_command) -> ProbeResult:
    try:
        sessions = [
            line.split()[0]
            for line in run(["loginctl", "list-sessions", "--no-legend"]).splitlines()
            if line.strip()
        ]
    except (OSError, subprocess.SubprocessError) as exc:
        return ProbeResult.unavailable(PROBE, f"loginctl gave nothing ({exc})")
    if not sessions:
        return ProbeResult.unavailable(PROBE, "no logind sessions (nobody logged in, or no systemd-logind)")
    idle_since: list[float] = []
    for session in sessions:
        try:
            props = _properties(
                run(
                    [
                        "loginctl",
                        "show-session",
                        session,
                        "-p",
                        "IdleHint",
                        "-p",
                        "IdleSinceHint",
                        "-p",
                        "Type",
                    ]
                )
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if props.get("Type") in ("x11", "wayland", "tty", "mir") or "Type" not in props:
            if props.get("IdleHint") != "yes":
                return ProbeResult(PROBE, True, False, f"session {session} is active (IdleHint=no)")
            since_us = int(props.get("IdleSinceHint") or 0)
            idle_since.append(time.time() - since_us / 1e6 if since_us else idle_after_s)
    if not idle_since:
        return ProbeResult.unavailable(PROBE, "no user session reports an IdleHint")
    idle_s = min(idle_since)
    return ProbeResult(
        PROBE, True, idle_s >= idle_after_s, f"all sessions idle (IdleHint=yes) for {idle_s:.0f} s"
    )
