"""Gaming mode: another program uses the node's GPU heavily (NVML process list in the node's LiveState)."""

from __future__ import annotations

from sensors.probes.probe_result import ProbeResult
from transcript_foundry.hardware.node_telemetry import LiveState
from transcript_foundry.settings.model import ActivitySettings

PROBE = "gpu_processes"


def gaming_probe(live: LiveState | None, settings: ActivitySettings) -> ProbeResult:
    if live is None:
        return ProbeResult.unavailable(PROBE, "the node reported no live state")
    others = live.other_gpu_processes
    if not others:
        why = live.unavailable.get("gpu") or live.unavailable.get("nvml")
        if why and live.gpu_util_pct is None:
            return ProbeResult.unavailable(PROBE, why)
        return ProbeResult(PROBE, True, False, "no other process on the GPU")
    names = ", ".join(str(p.get("name") or p.get("pid")) for p in others)
    util = live.gpu_util_pct
    memory = max(float(p.get("used_memory_mb") or 0) for p in others)  # type: ignore[arg-type]
    if util is not None and util >= settings.gaming_gpu_util_pct:
        return ProbeResult(PROBE, True, True, f"{names} on the GPU at {util:.0f}% utilisation")
    if settings.gaming_gpu_memory_mb and memory >= settings.gaming_gpu_memory_mb:
        return ProbeResult(PROBE, True, True, f"{names} holds {memory:.0f} MB of VRAM")
    return ProbeResult(PROBE, True, False, f"{names} on the GPU, lightly ({util or 0:.0f}%, {memory:.0f} MB)")
