"""Many simulated LLM nodes (tests/support/simulated_node.py) on 127.0.0.1, served from worker processes.

Hundreds of HTTP servers in the dispatching process would compete with it for the GIL and measure the
servers rather than the dispatcher; a ``NodeFarm`` spreads them over ``processes`` worker processes. Each
node is a real ThreadingHTTPServer on its own port. The parent starts, stops (connections refused: the node
left), changes their behaviour and counts nodes through a pipe per worker.
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import Any

from tests.support.simulated_node import NodeBehaviour, SimulatedNode


def _worker(conn: Connection, behaviours: dict[int, dict[str, Any]], started: list[int]) -> None:
    nodes: dict[int, SimulatedNode] = {}

    def start(i: int) -> int:
        node = nodes.get(i)
        if node is None:
            node = nodes[i] = SimulatedNode(NodeBehaviour(**behaviours[i]), seed=i)
        else:
            node.start()
        return node.port

    conn.send({i: start(i) for i in started})
    while True:
        command, arg = conn.recv()
        if command == "start":
            conn.send(start(arg))
        elif command == "stop":
            nodes[arg].stop()
            conn.send(None)
        elif command == "set":
            index, fields = arg
            for name, value in fields.items():
                setattr(nodes[index].behaviour, name, value)
            conn.send(None)
        elif command == "completed":
            conn.send({i: list(n.completed) for i, n in nodes.items()})
        elif command == "counts":
            conn.send({i: dict(n.counts, busy_slot_s=n.busy_slot_s) for i, n in nodes.items()})
        elif command == "close":
            for node in nodes.values():
                node.stop()
            conn.send(None)
            return


class NodeFarm:
    """``behaviours[i]`` for node i; ``absent`` nodes are not started until ``start(i)``."""

    def __init__(
        self, behaviours: list[NodeBehaviour], *, processes: int = 2, absent: set[int] = frozenset()
    ):
        ctx = mp.get_context("spawn")  # a clean interpreter: no threads or sockets inherited
        self.ports: dict[int, int] = {}
        self._conn_of: dict[int, Connection] = {}
        self._procs: list[Any] = []
        self._conns: list[Connection] = []
        groups = [list(range(len(behaviours)))[k::processes] for k in range(processes)]
        for group in groups:
            parent, child = ctx.Pipe()
            share = {i: asdict(behaviours[i]) for i in group}
            proc = ctx.Process(
                target=_worker, args=(child, share, [i for i in group if i not in absent]), daemon=True
            )
            proc.start()
            self._procs.append(proc)
            self._conns.append(parent)
            for i in group:
                self._conn_of[i] = parent
        for conn in self._conns:
            self.ports.update(conn.recv())

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]}/v1"

    def start(self, i: int) -> str:
        conn = self._conn_of[i]
        conn.send(("start", i))
        self.ports[i] = conn.recv()
        return self.url(i)

    def stop(self, i: int) -> None:
        conn = self._conn_of[i]
        conn.send(("stop", i))
        conn.recv()

    def set(self, i: int, **fields: Any) -> None:
        """Change node i's behaviour while it runs (e.g. ``rate_limit_per_s``, ``fail_rate``)."""
        conn = self._conn_of[i]
        conn.send(("set", (i, fields)))
        conn.recv()

    def completed(self) -> dict[int, list[str]]:
        """The prompt of every request each node completed."""
        out: dict[int, list[str]] = {}
        for conn in self._conns:
            conn.send(("completed", None))
            out.update(conn.recv())
        return out

    def counts(self) -> dict[int, dict[str, float]]:
        out: dict[int, dict[str, float]] = {}
        for conn in self._conns:
            conn.send(("counts", None))
            out.update(conn.recv())
        return out

    def close(self) -> None:
        for conn in self._conns:
            try:
                conn.send(("close", None))
                conn.recv()
            except (EOFError, OSError):
                pass
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()

    def __enter__(self) -> NodeFarm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
