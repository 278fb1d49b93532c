"""How the sensors read every node's live state: an interface, so tests inject readings.

``FleetReadings`` (the default) reads agents' heartbeats from the node registry (fresh ones only: a stale
node is the alerting sensor's business) and probes the local machine for the pool's in-process nodes
(``llama_cpp`` backend) with ``transcript_foundry.hardware.profile.probe_live`` when that module is there, else with
psutil alone (temperatures, CPU load; no GPU), saying so in ``LiveState.unavailable``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import psutil
from sqlalchemy import Engine

from sensors.pool_nodes import PoolNodes, local_node_ids
from transcript_foundry.hardware.node_telemetry import LiveState
from transcript_foundry.pool.node_registry import NodeRegistry


@dataclass(frozen=True)
class NodeReading:
    node_id: str
    hostname: str  # picks the node's settings profile
    live: LiveState | None
    local: bool  # the local machine: its presence and idle probes apply to this node


class NodeReadings(Protocol):
    def read(self) -> dict[str, NodeReading]: ...


def psutil_live() -> LiveState:
    """The local machine from psutil alone: the fallback when transcript_foundry.hardware.profile is not available."""
    unavailable = {
        "gpu": "transcript_foundry.hardware.profile (NVML probe) not available; psutil reads no GPU"
    }
    cpu_temp = None
    try:
        zones = psutil.sensors_temperatures()
    except (AttributeError, OSError) as exc:  # AttributeError: not on this platform
        zones, unavailable["cpu_temp"] = {}, f"psutil.sensors_temperatures unavailable ({exc})"
    temps = [t.current for entries in zones.values() for t in entries if t.current]
    if temps:
        cpu_temp = max(temps)
    elif "cpu_temp" not in unavailable:
        unavailable["cpu_temp"] = "no temperature sensors exposed (psutil.sensors_temperatures is empty)"
    try:
        load = os.getloadavg()[0]
    except OSError:
        load, unavailable["load"] = None, "os.getloadavg unavailable"
    return LiveState(
        cpu_temp_c=cpu_temp,
        cpu_util_pct=psutil.cpu_percent(interval=None),
        load_avg_1m=load,
        unavailable=unavailable,
    )


def probe_local_live() -> LiveState:
    try:
        from transcript_foundry.hardware.profile import (
            probe_live,  # the pool's full probe (NVML, thermal zones, ...)
        )
    except ImportError:
        return psutil_live()
    return probe_live()


class FleetReadings:
    def __init__(
        self, engine: Engine, pool: PoolNodes, local_probe: Callable[[], LiveState] = probe_local_live
    ):
        self.registry = NodeRegistry(engine)
        self.pool = pool
        self.local_probe = local_probe

    def read(self) -> dict[str, NodeReading]:
        readings = {
            n.spec.id: NodeReading(n.spec.id, n.hostname or n.spec.id, n.live, local=False)
            for n in self.registry.fresh()
        }
        local_ids = [i for i in local_node_ids(self.pool) if i not in readings]
        if local_ids:
            live, host = self.local_probe(), socket.gethostname()
            readings.update({i: NodeReading(i, host, live, local=True) for i in local_ids})
        return readings


ReadingsFactory = Callable[[Engine, PoolNodes], NodeReadings]

NO_READINGS = (
    "no node to read: in-process (llama_cpp) nodes are read on this machine, others through their node "
    "agent's heartbeat; none is configured or heartbeating"
)
