"""What a node is (HardwareProfile) and how it is doing right now (LiveState): the values probes report.

Probes (``transcript_foundry/hardware/profile.py``) fill these on the local machine; node agents send them with every
heartbeat; the pool scores nodes from them and the sensors act on them. A value a platform cannot give is
``None`` and its probe is named in ``unavailable`` with the reason, so nothing is guessed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NodeType = Literal["gpu_server", "desktop", "laptop", "raspberry_pi", "cpu_server", "remote_api", "unknown"]


class GpuInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int
    name: str
    memory_total_mb: int
    memory_free_mb: int | None = None
    temperature_c: float | None = None
    utilization_pct: float | None = None
    # Processes of other programs on this GPU (games, other jobs): pid, name, used_memory_mb.
    other_processes: list[dict[str, object]] = Field(default_factory=list)


class HardwareProfile(BaseModel):
    """The seed's hardware profile: what the machine is. Changes rarely; sent at registration."""

    model_config = ConfigDict(extra="forbid")

    hostname: str
    node_type: NodeType = "unknown"
    architecture: str  # platform.machine(): x86_64, aarch64 ...
    cpu_cores: int
    ram_mb: int
    gpu_count: int = 0
    gpu_memory_mb: int = 0  # total over all GPUs
    gpus: list[GpuInfo] = Field(default_factory=list)
    capabilities: list[str] = Field(default_factory=list)  # e.g. gpu, cuda, avx2, metal, chat_json
    unavailable: dict[str, str] = Field(default_factory=dict)  # probe name -> why it gave nothing


class LiveState(BaseModel):
    """How the node is doing now: temperatures, load, free VRAM, queue. Sent with every heartbeat."""

    model_config = ConfigDict(extra="forbid")

    cpu_temp_c: float | None = None
    gpu_temp_c: float | None = None  # the hottest GPU
    cpu_util_pct: float | None = None
    gpu_util_pct: float | None = None
    gpu_memory_free_mb: int | None = None
    load_avg_1m: float | None = None
    other_gpu_processes: list[dict[str, object]] = Field(default_factory=list)
    in_flight: int = 0
    queue_depth: int = 0
    unavailable: dict[str, str] = Field(default_factory=dict)  # probe name -> why it gave nothing
