"""The routing index: every node's score kept up to date incrementally, for O(log n) routing decisions.

Rescoring the whole fleet for every call costs O(n) (about 90 ms at 5,000 nodes). The index scores every
node once when the fleet is (re)read (``rebuild``: at the start and after each refresh of the pool) and
afterwards only the node whose state changed (``update``: the chosen node after a start, a node after its
call settled, a node whose cooldown or open circuit ran out). The nodes that may take work now (eligible,
with room under their concurrency limit) sit in a Fenwick tree weighted by score, so power-of-two-choices
(two nodes drawn weighted by score, the better wins) costs O(log n).

What the incremental scores leave out until the next rebuild: the fleet's scale (the fastest node's
tokens/s and the largest context window, which the capability component is relative to) and anything
only a refresh reads (temperatures, controls, heartbeats, settings).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Sequence

from transcript_foundry.pool.node_choice import RankedNode, StepRequirements
from transcript_foundry.pool.node_runtime import NodeRuntime
from transcript_foundry.pool.scoring import FleetScale, ScoringWeights, fleet_scale, score_node

MIN_WEIGHT = 1e-6  # an eligible node with room and a score of 0 can still be drawn


class _Fenwick:
    """Prefix sums over non-negative weights: point update, total, and the index at a cumulative weight."""

    def __init__(self, weights: Sequence[float]):
        n = len(weights)
        self.n = n
        self.values = list(weights)
        tree = [0.0] * (n + 1)
        for i, w in enumerate(weights, start=1):
            tree[i] += w
            parent = i + (i & -i)
            if parent <= n:
                tree[parent] += tree[i]
        self.tree = tree
        self.step = 1 << max(0, n.bit_length() - 1) if n else 0

    def set(self, index: int, weight: float) -> None:
        delta = weight - self.values[index]
        if delta == 0.0:
            return
        self.values[index] = weight
        i = index + 1
        while i <= self.n:
            self.tree[i] += delta
            i += i & -i

    def total(self) -> float:
        i, total = self.n, 0.0
        while i > 0:
            total += self.tree[i]
            i -= i & -i
        return total

    def find(self, target: float) -> int:
        """The first index whose prefix sum exceeds ``target`` (0 <= target < total)."""
        pos, step = 0, self.step
        while step:
            nxt = pos + step
            if nxt <= self.n and self.tree[nxt] <= target:
                pos = nxt
                target -= self.tree[nxt]
            step >>= 1
        return min(pos, self.n - 1)


class RoutingIndex:
    def __init__(
        self,
        requirements: StepRequirements,
        weights: ScoringWeights,
        clock: Callable[[], float],
    ):
        self.requirements = requirements
        self.weights = weights
        self.clock = clock
        self.scale = FleetScale(None, 1)
        self.runtimes: dict[str, NodeRuntime] = {}
        self.ranked: dict[str, RankedNode] = {}
        self.eligible: set[str] = set()
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._tree = _Fenwick([])
        self._wake: list[tuple[float, str]] = []  # (time, node): a time-limited exclusion ends
        self._suspended: list[str] = []
        self._room: dict[str, int] = {}  # calls each open node can still take
        self.free_room = 0  # their sum: more than the ready work means the end game
        self.fastest_call_s: float | None = None  # the shortest typical call among eligible nodes

    # ---- building --------------------------------------------------------------------------------------
    def rebuild(self, runtimes: Sequence[NodeRuntime], weights: ScoringWeights | None = None) -> None:
        """Score every node (O(n)): at the start and after each refresh of the pool."""
        if weights is not None:
            self.weights = weights
        snapshots = [r.snapshot() for r in runtimes]
        self.scale = fleet_scale(snapshots)
        self.runtimes = {r.node_id: r for r in runtimes}
        self._ids = list(self.runtimes)
        self._pos = {node_id: i for i, node_id in enumerate(self._ids)}
        self.ranked, self.eligible, self._wake, self._suspended = {}, set(), [], []
        self._room, self.free_room, self.fastest_call_s = {}, 0, None
        weights_now = []
        for runtime, snapshot in zip(runtimes, snapshots, strict=True):
            weights_now.append(
                self._score(runtime, score_node(snapshot, self.scale, self.requirements, self.weights))
            )
        self._tree = _Fenwick(weights_now)

    def _score(self, runtime: NodeRuntime, ranked: RankedNode) -> float:
        node_id = runtime.node_id
        self.ranked[node_id] = ranked
        room = max(0, runtime.limit() - runtime.in_flight) if ranked.eligible else 0
        self.free_room += room - self._room.get(node_id, 0)
        self._room[node_id] = room
        if ranked.eligible:
            self.eligible.add(node_id)
            if runtime.call_seconds is not None and (
                self.fastest_call_s is None or runtime.call_seconds < self.fastest_call_s
            ):
                self.fastest_call_s = runtime.call_seconds
            return max(ranked.score, MIN_WEIGHT) if room > 0 else 0.0
        self.eligible.discard(node_id)
        until = self._excluded_until(runtime)
        if until is not None:
            heapq.heappush(self._wake, (until, node_id))
        return 0.0

    def _excluded_until(self, runtime: NodeRuntime) -> float | None:
        """When a time-limited exclusion (Retry-After cooldown, open circuit) ends; None otherwise."""
        now = self.clock()
        times = []
        if runtime.cooldown_until > now:
            times.append(runtime.cooldown_until)
        reopens = runtime.circuit.reopens_in()
        if reopens > 0:
            times.append(now + reopens)
        return max(times) if times else None

    def update(self, node_id: str) -> None:
        """Score one node again (O(log n)): its queue, circuit, cooldown or speed changed."""
        runtime, pos = self.runtimes.get(node_id), self._pos.get(node_id)
        if runtime is None or pos is None:
            return
        ranked = score_node(runtime.snapshot(), self.scale, self.requirements, self.weights)
        self._tree.set(pos, self._score(runtime, ranked))

    def wake_due(self) -> None:
        """Score again the nodes whose cooldown or open period has run out."""
        now = self.clock()
        while self._wake and self._wake[0][0] <= now:
            _, node_id = heapq.heappop(self._wake)
            self.update(node_id)

    def next_wake_in(self) -> float | None:
        return max(0.0, self._wake[0][0] - self.clock()) if self._wake else None

    # ---- choosing ----------------------------------------------------------------------------------------
    def choose(self, rng: random.Random, choices: int = 2) -> RankedNode | None:
        """Power-of-``choices`` among the nodes that may take work now, drawn weighted by score; the best
        score wins."""
        drawn: list[int] = []
        for _ in range(choices):
            total = self._tree.total()
            if total < MIN_WEIGHT / 2:  # every weight is 0 (what is left is float rounding)
                break
            pos = self._tree.find(rng.random() * total)
            if self._tree.values[pos] <= 0:  # float rounding at the very end of the range
                positive = [i for i, w in enumerate(self._tree.values) if w > 0]
                if not positive:
                    break
                pos = positive[-1]
            drawn.append(pos)
            self._tree.set(pos, 0.0)  # distinct draws
        if not drawn:
            return None
        for pos in drawn:
            node_id = self._ids[pos]
            self._tree.set(pos, max(self.ranked[node_id].score, MIN_WEIGHT))
        best = max(drawn, key=lambda p: self.ranked[self._ids[p]].score)
        return self.ranked[self._ids[best]]

    def suspend(self, node_id: str) -> None:
        """Take the node out of this pass's draws (it could not take the ready work); ``resume`` ends it."""
        pos = self._pos.get(node_id)
        if pos is not None:
            self.free_room -= self._room.get(node_id, 0)
            self._room[node_id] = 0
            self._tree.set(pos, 0.0)
            self._suspended.append(node_id)

    def resume(self) -> None:
        suspended, self._suspended = self._suspended, []
        for node_id in suspended:
            self.update(node_id)

    def open_nodes(self) -> int:
        """How many nodes may take work now (for tests and the benchmark)."""
        return sum(1 for w in self._tree.values if w > 0)
