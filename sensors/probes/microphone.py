"""User presence: an active microphone stream.

ALSA first: a capture substream whose ``/proc/asound/card*/pcm*c/sub*/status`` says ``state: RUNNING``.
Where ALSA shows nothing (PipeWire / PulseAudio own the device), ``pactl list short source-outputs``: a
program recording from a source.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from sensors.probes.command_runner import CommandRunner, run_command
from sensors.probes.probe_result import ProbeResult

PROBE = "microphone"


def microphone_probe(asound: Path = Path("/proc/asound"), run: CommandRunner = run_command) -> ProbeResult:
    capture = sorted(asound.glob("card*/pcm*c/sub*/status")) if asound.is_dir() else []
    running = []
    for status in capture:
        try:
            if "state: RUNNING" in status.read_text():
                running.append(str(status.relative_to(asound).parent))
        except OSError:
            continue
    if running:
        return ProbeResult(PROBE, True, True, f"capture stream running on {', '.join(running)} (ALSA)")
    try:
        outputs = [
            line for line in run(["pactl", "list", "short", "source-outputs"]).splitlines() if line.strip()
        ]
    except (OSError, subprocess.SubprocessError) as exc:
        if capture:
            return ProbeResult(PROBE, True, False, f"{len(capture)} ALSA capture substream(s), none running")
        return ProbeResult.unavailable(
            PROBE, f"no ALSA capture devices under {asound} and no PipeWire/PulseAudio ({exc})"
        )
    if outputs:
        return ProbeResult(PROBE, True, True, f"{len(outputs)} recording stream(s) (pactl source-outputs)")
    return ProbeResult(PROBE, True, False, "no recording stream (ALSA and pactl)")
