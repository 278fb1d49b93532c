"""Bounded admission: at most ``max_concurrency`` calls run, at most ``max_queue`` wait; the rest are refused.

A refusal carries a Retry-After estimate: the work ahead of a newcomer (running + waiting calls) divided
by the concurrency, times the mean latency of recent calls. The counts feed LiveState and /metrics.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

DEFAULT_LATENCY_S = 2.0  # the estimate before any call has finished
_RECENT = 50


class Refused(Exception):
    def __init__(self, reason: str, retry_after_s: float, message: str):
        super().__init__(message)
        self.reason = reason  # queue_full | draining
        self.retry_after_s = retry_after_s
        self.message = message


class Admission:
    def __init__(self, max_concurrency: int, max_queue: int):
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self.in_flight = 0
        self.waiting = 0
        self.draining = False
        self._slots: asyncio.Semaphore | None = None
        self._latencies: deque[float] = deque(maxlen=_RECENT)

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:  # made inside the server's event loop
            self._slots = asyncio.Semaphore(self.max_concurrency)
        return self._slots

    def mean_latency_s(self) -> float:
        return sum(self._latencies) / len(self._latencies) if self._latencies else DEFAULT_LATENCY_S

    def retry_after_s(self) -> float:
        ahead = self.in_flight + self.waiting
        return max(1.0, ahead / self.max_concurrency * self.mean_latency_s())

    async def acquire(self) -> float:
        """Wait for a slot; returns the start time to hand to release(). Raises Refused."""
        if self.draining:
            raise Refused(
                "draining",
                30.0,
                "this node is draining (an admin stopped admissions): send the call to another node",
            )
        if self.in_flight >= self.max_concurrency and self.waiting >= self.max_queue:
            raise Refused(
                "queue_full",
                self.retry_after_s(),
                f"this node is busy: {self.in_flight} call(s) running and {self.waiting} waiting "
                f"(--max-concurrency {self.max_concurrency}, --max-queue {self.max_queue}); retry after the "
                "Retry-After seconds or use another node",
            )
        self.waiting += 1
        try:
            await self._semaphore().acquire()
        finally:
            self.waiting -= 1
        self.in_flight += 1
        return time.perf_counter()

    def release(self, started: float, *, ok: bool = True) -> None:
        self.in_flight -= 1
        if ok:
            self._latencies.append(time.perf_counter() - started)
        self._semaphore().release()
