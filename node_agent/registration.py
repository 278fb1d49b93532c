"""Registration and heartbeat: the agent puts its NodeSpec and HardwareProfile into the state DB's node
registry when it starts, sends its LiveState every ``interval_s``, and removes itself on a clean shutdown
(a crashed agent stops heartbeating and goes stale instead, so the pool stops routing to it).

Drain and resume are also written to the node controls (paused, source ``agent``), so the pool stops
sending work to a drained node instead of learning it from 503s.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_registry import NodeRegistry, UnknownNode
from transcript_foundry.pool.node_spec import NodeSpec

log = logging.getLogger("node_agent.registration")
CONTROL_SOURCE = "agent"


class NodeRegistration:
    def __init__(
        self,
        engine: Engine,
        spec: NodeSpec,
        profile: HardwareProfile,
        live: Callable[[], LiveState],
        interval_s: float,
    ):
        self.registry = NodeRegistry(engine)
        self.controls = NodeControls(engine)
        self.spec = spec
        self.profile = profile
        self.live = live
        self.interval_s = interval_s
        self.beats = 0
        self.last_error: str | None = None
        # A heartbeat thread may still be running when the agent deregisters; the lock and the flag make
        # sure it can neither register the node again afterwards nor race the delete.
        self._lock = threading.Lock()
        self._deregistered = False

    def register(self) -> None:
        self.registry.register(self.spec, self.profile, source="agent", live=self.live())

    def beat(self) -> None:
        """One heartbeat; registers again when the row is gone (the DB was reset, someone deregistered)."""
        state = self.live()
        with self._lock:
            if self._deregistered:
                return
            try:
                self.registry.heartbeat(self.spec.id, state)
            except UnknownNode:
                log.warning("node %s was not in the registry any more; registering again", self.spec.id)
                self.registry.register(self.spec, self.profile, source="agent", live=state)
            self.beats += 1

    async def run(self) -> None:
        """Heartbeat until cancelled. A state DB that is down is logged and retried, never fatal."""
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await asyncio.to_thread(self.beat)
                self.last_error = None
            except SQLAlchemyError as exc:
                self.last_error = f"heartbeat failed: {exc.__class__.__name__}: {exc}"
                log.warning("node %s: %s", self.spec.id, self.last_error)

    def deregister(self) -> None:
        with self._lock:
            self._deregistered = True
            self.registry.deregister(self.spec.id)

    def set_paused(self, paused: bool, reason: str) -> None:
        self.controls.set(self.spec.id, paused=paused, reason=reason, source=CONTROL_SOURCE)
