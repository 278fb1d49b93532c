"""Dispatch: units of work run concurrently across the pool's nodes, each item ending exactly once.

An asyncio loop owns all decisions; the (blocking) LLM calls run in worker threads. Whenever a node has
room under its adaptive concurrency limit, the loop ranks the nodes (transcript_foundry/pool/scoring.py), picks one by
power-of-two-choices among those with room, and asks the ``WorkSource`` for a unit for that node (one
conversation pinned to it for its whole length, or a JSON batch sized for it). Then:

- success: the circuit breaker hears it; each item is done, or failed on content (a degenerate turn, a
  malformed conversation) and retried while it has attempts left;
- a failed call (``LLMCallError``): the circuit breaker and, for 429 / 503 / timeouts, the concurrency
  limit hear it; ``Retry-After`` cools the node down. A transport fault (connection refused or dropped,
  429, 5xx, timeout, an answer that is not an OpenAI response) is a fault of the network, not of the
  conversation: it costs time, not an attempt. Each item is retried on another eligible node at once, or,
  when every eligible node has had it, after a backoff of base x 1, 2, 4, 8 s plus jitter (never shorter
  than the Retry-After). Every retry is booked in the retry budget: when the budget is spent the retry
  waits until it fits (the dispatcher slows down) instead of failing. A 429 / 503 with Retry-After is a
  deferral the server paces: it books no budget and does not count against the circuit breaker. An item
  fails only for what its content did (``max_attempts`` content failures or refused requests, e.g. HTTP
  400), or when ``slot_deadline_s`` has passed since its first transport fault, with that reason;
- every attempt is aggregated into per-node performance windows, handed to ``on_sample``.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from transcript_foundry.llm.backend import LLMBackend, LLMCallError
from transcript_foundry.pool.metrics import DispatchMetrics, failure_reason
from transcript_foundry.pool.node_choice import RankedNode, StepRequirements
from transcript_foundry.pool.node_runtime import NodeRuntime
from transcript_foundry.pool.observed_backend import ObservedBackend
from transcript_foundry.pool.performance_window import PerformanceSample
from transcript_foundry.pool.retry_budget import RetryBudget, RetryBudgetSettings
from transcript_foundry.pool.routing_index import RoutingIndex
from transcript_foundry.pool.scoring import ANY_STEP, ScoringWeights


class Fleet(Protocol):
    """What the dispatcher reads of the fleet (``transcript_foundry.pool.fleet.NodeFleet`` is the real one)."""

    seed: int | None
    refresh_interval_s: float
    no_node_wait_s: float
    performance_window_s: float

    @property
    def backoff_base_s(self) -> float: ...
    @property
    def backoff_max_s(self) -> float: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def slot_deadline_s(self) -> float: ...
    @property
    def retry_budget_settings(self) -> RetryBudgetSettings: ...
    @property
    def dispatch_metrics(self) -> DispatchMetrics: ...
    @property
    def weights(self) -> ScoringWeights: ...
    def runtimes(self, refresh: bool = False) -> list[NodeRuntime]: ...

    probes_per_refresh: int

    def refresh(self, *, force: bool = False, probe_servers: bool = False) -> None: ...
    def probe_servers(self, limit: int | None = None) -> None: ...
    def backend(self, node_id: str) -> LLMBackend: ...
    def rank_nodes(
        self, requirements: StepRequirements = ANY_STEP, *, refresh: bool = True
    ) -> list[RankedNode]: ...


MAX_WORKER_THREADS = 1024  # threads for calls in flight: the fleet's upper bounds, up to this
TAKE_WINDOW = 64  # ready items a work source chooses from (a JSON batch takes at most 30)
COMPLETION_WINDOW = 256  # recent unit completions the fleet's drain rate is measured over
SLOW_NODE_FACTOR = 1.5  # the end game holds back only nodes this much slower than the fastest
FLUSH_EVERY_S = 0.5  # how often the per-node performance windows are checked for closing
log = logging.getLogger(__name__)


@dataclass(eq=False)
class WorkItem:
    """One thing that must end in exactly one outcome (a conversation slot, a request)."""

    key: str
    payload: Any
    attempts: int = 0
    node_failures: int = 0
    tried: set[str] = field(default_factory=set)
    not_before: float = 0.0
    transport_faults: int = 0  # dispatches that ended in a transport fault: they use up no attempt
    faults_since: float | None = None  # when it first met a transport fault (or waited for a node)

    @property
    def counted_attempts(self) -> int:
        """Attempts that count against ``max_attempts``: those that reached the content."""
        return self.attempts - self.transport_faults


@dataclass(frozen=True)
class ItemResult:
    """What a unit did for one of its items: ``value`` on success, else the ``failure`` reason."""

    value: Any = None
    failure: str | None = None


class Backlog:
    """Items waiting to run: ready ones in order (retries ahead of the fresh backlog), later ones in a heap
    by ``not_before``. Every operation a routing decision needs is O(1) or O(window), not O(backlog)."""

    def __init__(self, items: list[WorkItem]):
        self.ready: deque[WorkItem] = deque(items)
        self._later: list[tuple[float, int, WorkItem]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self.ready) + len(self._later)

    def release(self, now: float) -> None:
        """Items whose wait is over join the front of the ready queue (they waited already)."""
        due = []
        while self._later and self._later[0][0] <= now:
            due.append(heapq.heappop(self._later)[2])
        self.ready.extendleft(reversed(due))

    def put_back(self, item: WorkItem, now: float) -> None:
        if item.not_before <= now:
            self.ready.appendleft(item)
        else:
            self._seq += 1
            heapq.heappush(self._later, (item.not_before, self._seq, item))

    def window(self, node_id: str, all_eligible: set[str], limit: int) -> list[WorkItem]:
        """Up to ``limit`` ready items, in order, that ``node_id`` may take: not tried there yet, unless
        every eligible node has tried them."""
        out: list[WorkItem] = []
        for item in self.ready:
            if node_id not in item.tried or all_eligible <= item.tried:
                out.append(item)
                if len(out) >= limit:
                    break
        return out

    def remove(self, items: list[WorkItem]) -> None:
        for item in items:
            self.ready.remove(item)  # identity (eq=False); taken from the front window

    def next_wait(self, now: float) -> float | None:
        return max(0.0, self._later[0][0] - now) if self._later else None


class WorkSource(Protocol):
    def take(self, node: NodeRuntime, ready: list[WorkItem]) -> list[WorkItem]:
        """The items (at least one, or none) to send to ``node`` now, chosen from ``ready``."""

    def run(self, backend: LLMBackend, node: NodeRuntime, items: list[WorkItem]) -> list[ItemResult]:
        """Run one unit on the node (in a worker thread); one result per item, in order. A failed call
        raises LLMCallError for the whole unit."""

    def on_success(self, item: WorkItem, node_id: str, value: Any) -> None: ...

    def on_failure(self, item: WorkItem, node_id: str, reason: str, final: bool) -> None: ...


@dataclass
class DispatchStats:
    units_by_node: Counter[str] = field(default_factory=Counter)
    items_done: int = 0
    items_failed: int = 0
    node_failures: int = 0
    content_failures: int = 0
    retries_rerouted: int = 0
    retries_backed_off: int = 0
    retries_paced: int = 0  # retries that waited for room in the retry budget
    transport_faults: int = 0  # item-dispatches that ended in a transport fault
    deadline_failures: int = 0
    max_in_flight: int = 0  # the most units running at once


class Dispatcher:
    def __init__(
        self,
        pool: Fleet,
        *,
        max_attempts: int | None = None,
        requirements: StepRequirements = ANY_STEP,
        on_sample: Callable[[PerformanceSample], None] | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if max_attempts is not None and max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.pool = pool
        self._max_attempts = max_attempts
        self.requirements = requirements
        self.on_sample = on_sample
        self.rng = rng or random.Random(pool.seed)
        self.clock = clock
        self.budget = RetryBudget(pool.retry_budget_settings, clock=clock)
        self.metrics = pool.dispatch_metrics
        self.stats = DispatchStats()
        self.index = RoutingIndex(requirements, pool.weights, clock)
        self._completions: deque[float] = deque(maxlen=COMPLETION_WINDOW)  # when recent units ended
        self._on_done: Callable[[asyncio.Future[list[ItemResult]]], None] = lambda future: None
        self._unexpected: BaseException | None = None

    @property
    def max_attempts(self) -> int:
        """Attempts per item: the one given, else the pool's ``retry.max_attempts`` (hot reload)."""
        return self._max_attempts if self._max_attempts is not None else self.pool.max_attempts

    # ---- entry points ---------------------------------------------------------------------------------
    def run_sync(self, source: WorkSource, items: list[WorkItem]) -> DispatchStats:
        return asyncio.run(self.run(source, items))

    async def run(self, source: WorkSource, items: list[WorkItem]) -> DispatchStats:
        """Run every item to exactly one final outcome (reported to ``source``)."""
        loop = asyncio.get_running_loop()
        workers = min(
            MAX_WORKER_THREADS, max(1, sum(r.spec.concurrency_bounds[1] for r in self.pool.runtimes()))
        )
        pending = Backlog(list(items))
        running: dict[asyncio.Future[list[ItemResult]], tuple[NodeRuntime, list[WorkItem]]] = {}
        # Units that ended, handed over by their futures' callbacks: one wake-up per completion, without
        # asyncio.wait() walking every unit in flight (hundreds at fleet scale) each time.
        ended: deque[asyncio.Future[list[ItemResult]]] = deque()
        wakeup = asyncio.Event()

        def on_done(future: asyncio.Future[list[ItemResult]]) -> None:
            ended.append(future)
            wakeup.set()

        self._on_done = on_done
        self.budget.outstanding = lambda: len(pending) + sum(len(unit) for _, unit in running.values())
        last_flush = self.clock()
        starved_since: float | None = None
        refreshing: Future[None] | None = None
        # Read the servers' signals before the first call (slots seed the limits; the model list is only
        # asked for while a server is idle), then on the refresh thread every refresh_interval_s.
        await loop.run_in_executor(None, self._first_refresh)
        self.index.rebuild(self.pool.runtimes(), self.pool.weights)
        last_refresh = self.clock()
        with (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm-call") as executor,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="pool-refresh") as refresher,
        ):
            while pending or running:
                now = self.clock()
                if refreshing is None and now - last_refresh >= self.pool.refresh_interval_s:
                    refreshing = refresher.submit(self._periodic_refresh)
                    last_refresh = now
                if refreshing is not None and refreshing.done():
                    self._refresh_done(refreshing)
                    refreshing = None
                    self.index.rebuild(self.pool.runtimes(), self.pool.weights)
                started = self._start_ready(source, pending, running, loop, executor)
                self.stats.max_in_flight = max(self.stats.max_in_flight, len(running))
                self.metrics.queue_depth.set(len(pending))
                if now - last_flush >= FLUSH_EVERY_S:
                    self._flush_samples(force=False)
                    last_flush = now
                if not running and pending and not started:
                    starved_since = self._check_starved(source, pending, starved_since)
                else:
                    starved_since = None
                if not ended:
                    wakeup.clear()
                    timer = loop.call_later(self._next_wake(pending), wakeup.set)
                    await wakeup.wait()
                    timer.cancel()
                while ended:
                    future = ended.popleft()
                    node, unit = running.pop(future)
                    self._completions.append(self.clock())
                    self._settle(source, node, unit, future, pending)
                    self.index.update(node.node_id)
            if refreshing is not None:
                refreshing.exception()  # wait for it; its outcome no longer matters
        self._flush_samples(force=True)
        self.metrics.queue_depth.set(0)
        if self._unexpected is not None:
            raise self._unexpected
        return self.stats

    def _periodic_refresh(self) -> None:
        self.pool.refresh(force=True)
        self.pool.probe_servers(limit=self.pool.probes_per_refresh)

    def _first_refresh(self) -> None:
        try:
            self.pool.refresh(force=True, probe_servers=True)
        except Exception as exc:  # same policy as every later refresh: keep the last known state
            log.warning("node pool refresh failed, routing on the last known state: %s", exc)

    def _refresh_done(self, refreshing: Future[None]) -> None:
        """A failed re-read (state DB unreachable, nodes.yaml broken mid-run) keeps the last known state:
        work in flight must still end in its outcomes. It is logged, once per failure."""
        error = refreshing.exception()
        if error is not None:
            log.warning("node pool refresh failed, routing on the last known state: %s", error)

    # ---- scheduling -----------------------------------------------------------------------------------
    def _next_wake(self, pending: Backlog) -> float:
        now = self.clock()
        waits = [w for w in (pending.next_wait(now), self.index.next_wake_in()) if w is not None]
        soonest = min(waits) if waits else self.pool.refresh_interval_s
        return min(max(0.005, soonest), self.pool.refresh_interval_s, 0.25)

    def _start_ready(
        self,
        source: WorkSource,
        pending: Backlog,
        running: dict[asyncio.Future[list[ItemResult]], tuple[NodeRuntime, list[WorkItem]]],
        loop: asyncio.AbstractEventLoop,
        executor: ThreadPoolExecutor,
    ) -> int:
        """Start units on nodes with room until the ready work or the room runs out. Each routing decision
        is a draw from the routing index (O(log n)); only the chosen node is scored again."""
        now = self.clock()
        pending.release(now)
        if not pending.ready:
            return 0
        index = self.index
        index.wake_due()
        started = 0
        try:
            while pending.ready:
                pick = index.choose(self.rng)
                if pick is None:
                    break
                node = index.runtimes[pick.node_id]
                if self._would_finish_last(node, len(pending.ready), len(running)):
                    index.suspend(node.node_id)
                    continue
                candidates = pending.window(node.node_id, index.eligible, TAKE_WINDOW)
                if not candidates or not node.circuit.try_acquire():
                    index.suspend(node.node_id)
                    continue
                unit = source.take(node, candidates)
                if not unit:
                    node.circuit.release_probe()
                    index.suspend(node.node_id)
                    continue
                pending.remove(unit)
                for item in unit:
                    if item.attempts == 0:
                        self.budget.record_request()  # a first attempt deposits into the retry budget
                    item.attempts += 1
                node.started()
                self.stats.units_by_node[node.node_id] += 1
                self.metrics.routing_decisions.labels(node.node_id).inc()
                future = loop.run_in_executor(executor, self._run_unit, source, node, unit)
                running[future] = (node, unit)
                future.add_done_callback(self._on_done)
                started += 1
                index.update(node.node_id)  # its queue grew: rescored, out of the draw when full
        finally:
            index.resume()
        return started

    def _would_finish_last(self, node: NodeRuntime, ready: int, running: int) -> bool:
        """The end game: would a unit started on this (slow) node end after the rest of the fleet has
        drained everything? The fleet ends units at R per second (measured); the ready work and the units
        running drain in about (ready + running) / R, the running ones' typical duration included (Little's
        law). A node whose calls take longer than that only makes the run longer: it waits for the next
        pass, and the work goes to faster nodes as they free up. Never while nothing runs (nothing would
        free up), nor for a node within 1.5 x the fastest typical call (waiting would not help)."""
        fastest = self.index.fastest_call_s
        if running == 0 or node.call_seconds is None or fastest is None or len(self._completions) < 2:
            return False
        if node.call_seconds <= SLOW_NODE_FACTOR * fastest:
            return False
        span = self._completions[-1] - self._completions[0]
        if span <= 0:
            return False
        rate = (len(self._completions) - 1) / span
        return node.call_seconds > (ready + running) / rate

    def _run_unit(self, source: WorkSource, node: NodeRuntime, unit: list[WorkItem]) -> list[ItemResult]:
        tokens = self.metrics.output_tokens.labels(node.node_id)
        backend = ObservedBackend(self.pool.backend(node.node_id), node, on_tokens=tokens.inc)
        return source.run(backend, node, unit)

    def _check_starved(self, source: WorkSource, pending: Backlog, since: float | None) -> float | None:
        """Ready work, nothing running, no node takes it. While some node only waits out faults (an open
        circuit, a Retry-After) it will take work again by itself: the work waits, and a slot fails only
        when its deadline (``slot_deadline_s`` from its first fault, or from when it began to wait) passed.
        Otherwise (paused, stale, no node at all) it waits up to ``no_node_wait_s``, then fails."""
        now = self.clock()
        pending.release(now)
        if not pending.ready:
            return None
        if since is None:
            return now
        waiting_out_faults = any(r.waiting_out_faults() for r in self.pool.runtimes())
        if waiting_out_faults:
            for item in pending.ready:
                if item.faults_since is None:
                    item.faults_since = since
            expired = [item for item in pending.ready if self._past_deadline(item, now)]
        elif now - since >= self.pool.no_node_wait_s:
            expired = list(pending.ready)
        else:
            return since
        if not expired:
            return since
        ranked = self.pool.rank_nodes(self.requirements, refresh=False)
        why = "; ".join(f"{r.node_id}: {r.excluded_because or 'no room'}" for r in ranked) or "no nodes"
        pending.remove(expired)
        for item in expired:
            if waiting_out_faults:
                reason = self._deadline_reason(item, now, f"no eligible node: {why}")
                self.stats.deadline_failures += 1
            else:
                reason = f"no eligible node for {self.pool.no_node_wait_s:g} s ({why})"
            self.stats.items_failed += 1
            self.metrics.items.labels("failed").inc()
            source.on_failure(item, "-", reason, True)
        return since

    # ---- outcomes -------------------------------------------------------------------------------------
    def _settle(
        self,
        source: WorkSource,
        node: NodeRuntime,
        unit: list[WorkItem],
        future: asyncio.Future[list[ItemResult]],
        pending: Backlog,
    ) -> None:
        node.finished()
        try:
            results = future.result()
        except LLMCallError as exc:
            self._call_failed(source, node, unit, exc, pending)
            return
        except Exception as exc:  # a bug, not a node failure: every item still gets its outcome, then raise
            node.circuit.release_probe()
            self._unexpected = self._unexpected or exc
            for item in unit:
                self.stats.items_failed += 1
                self.metrics.items.labels("failed").inc()
                source.on_failure(item, node.node_id, f"internal error: {type(exc).__name__}: {exc}", True)
            return
        node.circuit.record_success()
        if len(results) != len(unit):
            raise RuntimeError(f"work source returned {len(results)} results for {len(unit)} items")
        for item, result in zip(unit, results, strict=True):
            if result.failure is None:
                self.stats.items_done += 1
                self.metrics.items.labels("done").inc()
                source.on_success(item, node.node_id, result.value)
                continue
            self.stats.content_failures += 1
            final = item.counted_attempts >= self.max_attempts
            self.metrics.retries.labels("content", "exhausted" if final else "retried").inc()
            if final:
                self.stats.items_failed += 1
                self.metrics.items.labels("failed").inc()
            source.on_failure(item, node.node_id, result.failure, final)
            if not final:
                item.not_before = self.clock()
                pending.put_back(item, item.not_before)  # it waited already: ahead of the fresh backlog

    def _call_failed(
        self,
        source: WorkSource,
        node: NodeRuntime,
        unit: list[WorkItem],
        exc: LLMCallError,
        pending: Backlog,
    ) -> None:
        self.stats.node_failures += 1
        # A 429 / 503 with Retry-After is a deferral paced by the server (the node cools down for that
        # long), not a failure: it neither opens the circuit nor spends the retry budget.
        deferral = exc.overload and exc.retry_after is not None
        if deferral:
            node.circuit.release_probe()
        elif exc.retryable:
            node.circuit.record_failure(str(exc))
        else:
            node.circuit.record_success()  # it answered; it refused this request (e.g. HTTP 400)
        if exc.overload:
            node.concurrency.overload(f"HTTP {exc.status}" if exc.status else "timeout")
        if exc.retry_after:
            node.cool_down(exc.retry_after, f"Retry-After {exc.retry_after:g} s with HTTP {exc.status}")
        self.index.update(node.node_id)  # circuit, cooldown, limit: before the retries are placed
        why = failure_reason(exc.status, exc.overload, exc.retryable)
        now = self.clock()
        for item in unit:
            item.tried.add(node.node_id)
            item.node_failures += 1
            reason = f"LLM call failed: {exc}"
            if exc.retryable:  # a transport fault: it costs time, not an attempt
                item.transport_faults += 1
                self.stats.transport_faults += 1
                item.faults_since = now if item.faults_since is None else item.faults_since
                final = self._past_deadline(item, now)
                if final:
                    reason = self._deadline_reason(item, now, f"last: {exc}")
                    self.stats.deadline_failures += 1
                action = "deadline" if final else "deferred" if deferral else ""
            else:  # the node refused this request (e.g. HTTP 400): it counts as an attempt
                final = item.counted_attempts >= self.max_attempts
                action = "exhausted" if final else ""
            if final:
                self.stats.items_failed += 1
                self.metrics.items.labels("failed").inc()
            source.on_failure(item, node.node_id, reason, final)
            if not final:
                rerouted = self._schedule_retry(item, exc.retry_after)
                action = action or ("rerouted" if rerouted else "backed_off")
                if not deferral and self._book_retry(item):
                    action = "paced"
                pending.put_back(item, self.clock())  # it waited already: ahead of the fresh backlog
            self.metrics.retries.labels(why, action).inc()

    def _past_deadline(self, item: WorkItem, now: float) -> bool:
        return item.faults_since is not None and now - item.faults_since >= self.pool.slot_deadline_s

    def _deadline_reason(self, item: WorkItem, now: float, detail: str) -> str:
        waited = now - (item.faults_since if item.faults_since is not None else now)
        what = f"transport faults for {waited:.0f} s" if item.transport_faults else f"waited {waited:.0f} s"
        return (
            f"deadline passed: {what} >= retry.slot_deadline_s {self.pool.slot_deadline_s:g} s "
            f"({item.transport_faults} fault(s); {detail}); raise the setting to wait longer"
        )

    def reserve_retry(self, earliest: float | None = None) -> float:
        """Book one retry in the retry budget (its settings as of the pool's last refresh): the moment from
        ``earliest`` (default now) it may be sent."""
        self.budget.settings = self.pool.retry_budget_settings
        return self.budget.reserve(earliest)

    def _book_retry(self, item: WorkItem) -> bool:
        """Book the item's retry; when the budget is spent it waits for room (True) instead of failing."""
        paced_before = self.budget.paced
        item.not_before = max(item.not_before, self.reserve_retry(item.not_before))
        if self.budget.paced == paced_before:
            return False
        self.stats.retries_paced += 1
        return True

    def _schedule_retry(self, item: WorkItem, retry_after: float | None) -> bool:
        """When the item may run again: at once on an untried eligible node (True), else after a backoff."""
        untried = self.index.eligible - item.tried
        now = self.clock()
        if untried:
            self.stats.retries_rerouted += 1
            item.not_before = now
            return True
        self.stats.retries_backed_off += 1
        base = self.pool.backoff_base_s
        delay = min(self.pool.backoff_max_s, base * 2 ** (item.node_failures - 1))
        delay += self.rng.uniform(0, base / 2)
        item.not_before = now + max(delay, retry_after or 0.0)
        return False

    def _flush_samples(self, *, force: bool) -> None:
        for node in self.pool.runtimes():
            if force or node.window.due(self.pool.performance_window_s):
                waiting = node.signals.backend_waiting if node.signals else 0
                sample = node.window.close(node.limit(), node.in_flight + waiting)
                if sample is not None:
                    node.last_sample = (sample.throughput_per_sec, sample.error_rate)
                    if self.on_sample is not None:
                        self.on_sample(sample)
