"""What one activity probe reports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProbeResult:
    probe: str  # gpu_processes | x11_idle | logind_idle | load_idle | camera | microphone | work_hours
    available: bool
    active: bool  # gaming / idle / in use / within work hours, by probe
    detail: str  # what it saw, or why it is unavailable

    @classmethod
    def unavailable(cls, probe: str, why: str) -> ProbeResult:
        return cls(probe, False, False, f"unavailable: {why}")

    def __str__(self) -> str:
        return f"{self.probe}: {self.detail}"
