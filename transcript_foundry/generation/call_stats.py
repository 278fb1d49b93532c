"""Per-call measurements of one generation step: latency percentiles, output tokens/s, error rate."""

from __future__ import annotations

import statistics
import threading
from dataclasses import dataclass, field

from transcript_foundry.llm.backend import Completion
from transcript_foundry.pool.percentiles import percentile

__all__ = ["CallStats", "percentile"]


@dataclass
class CallStats:
    latencies_s: list[float] = field(default_factory=list)
    output_tokens: int = 0
    prompt_tokens: int = 0
    errors: int = 0
    degenerate: int = 0
    ungrounded: int = 0  # turns re-sampled because they strayed from the plan's facts or the role rules
    by_node: dict[str, int] = field(default_factory=dict)
    # Calls on several nodes finish in worker threads at once.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, completion: Completion) -> None:
        with self._lock:
            self.latencies_s.append(completion.seconds)
            self.output_tokens += completion.completion_tokens
            self.prompt_tokens += completion.prompt_tokens
            self.by_node[completion.node_id] = self.by_node.get(completion.node_id, 0) + 1

    def record_error(self) -> None:
        with self._lock:
            self.errors += 1

    @property
    def calls(self) -> int:
        return len(self.latencies_s)

    @property
    def busy_seconds(self) -> float:
        return sum(self.latencies_s)

    @property
    def tokens_per_second(self) -> float:
        return self.output_tokens / self.busy_seconds if self.busy_seconds else 0.0

    @property
    def error_rate(self) -> float:
        total = self.calls + self.errors
        return self.errors / total if total else 0.0

    def summary(self) -> dict[str, float | int]:
        return {
            "llm_calls": self.calls,
            "llm_errors": self.errors,
            "degenerate_turns": self.degenerate,
            "ungrounded_turns": self.ungrounded,
            "output_tokens": self.output_tokens,
            "busy_seconds": round(self.busy_seconds, 3),
            "tokens_per_second": round(self.tokens_per_second, 2),
            "p50_latency_ms": round(percentile(self.latencies_s, 0.5) * 1000, 1),
            "p95_latency_ms": round(percentile(self.latencies_s, 0.95) * 1000, 1),
            "mean_latency_ms": round(statistics.fmean(self.latencies_s) * 1000, 1)
            if self.latencies_s
            else 0.0,
            "error_rate": round(self.error_rate, 4),
        }
