"""Every call attempt on a node, aggregated into windows that become ``performance_samples`` rows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from transcript_foundry.pool.percentiles import percentile


@dataclass(frozen=True)
class PerformanceSample:
    node_id: str
    concurrency: int  # the node's concurrency limit when the window closed
    throughput_per_sec: float  # output tokens per second of wall time
    p50_latency_ms: float
    p95_latency_ms: float
    error_rate: float
    queue_depth: int  # in flight + the server's own queue when the window closed
    calls: int
    errors: int


@dataclass
class PerformanceWindow:
    node_id: str
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    latencies_s: list[float] = field(default_factory=list)
    tokens: int = 0
    errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def success(self, tokens: int, seconds: float) -> None:
        with self._lock:
            self.latencies_s.append(seconds)
            self.tokens += tokens

    def failure(self, seconds: float) -> None:
        with self._lock:
            self.latencies_s.append(seconds)
            self.errors += 1

    def due(self, window_s: float) -> bool:
        return bool(self.latencies_s) and self.clock() - self.started >= window_s

    def close(self, concurrency: int, queue_depth: int) -> PerformanceSample | None:
        """The window so far as a sample (None when it saw no call), and a fresh window."""
        with self._lock:
            if not self.latencies_s:
                return None
            elapsed = max(1e-6, self.clock() - self.started)
            calls = len(self.latencies_s)
            sample = PerformanceSample(
                node_id=self.node_id,
                concurrency=concurrency,
                throughput_per_sec=round(self.tokens / elapsed, 3),
                p50_latency_ms=round(percentile(self.latencies_s, 0.5) * 1000, 1),
                p95_latency_ms=round(percentile(self.latencies_s, 0.95) * 1000, 1),
                error_rate=round(self.errors / calls, 4),
                queue_depth=queue_depth,
                calls=calls,
                errors=self.errors,
            )
            self.started, self.latencies_s, self.tokens, self.errors = self.clock(), [], 0, 0
            return sample
