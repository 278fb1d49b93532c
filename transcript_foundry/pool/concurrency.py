"""Per-node adaptive concurrency: hill climbing on goodput (output tokens/s) within the node's bounds.

Every ``window_calls`` completed calls close a window. A window where the node was not kept busy (mean
in-flight under half the limit) says nothing and is skipped. Goodput is estimated by Little's law (mean
in flight x output tokens / call seconds). Otherwise:

- p95 time per output token above ``latency_guard`` x its baseline in two windows running: one step down
  (the node is queueing);
- after a step up: keep climbing while goodput rose by ``min_gain`` (5 %); else step back and dwell;
- otherwise probe one step up.

An overload signal (HTTP 429 / 503, a timeout) cuts at once: limit x ``cut_factor`` (0.7), then a dwell
of ``cooldown_windows`` before climbing again. The limit routing uses is ``effective(throttle, hot)``:
x the NodeControls throttle factor, and 1 while the node is hot. A server that reports its parallel
slots (llama-server ``/slots``) caps the limit there and, before the first judged window, starts it there.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from transcript_foundry.pool.percentiles import percentile


@dataclass(frozen=True)
class ConcurrencySettings:
    window_calls: int = 10
    min_gain: float = 1.05
    latency_guard: float = 1.5
    cut_factor: float = 0.7
    cooldown_windows: int = 2
    baseline_alpha: float = 0.2


@dataclass
class _Window:
    started: float
    tokens: int = 0
    seconds: float = 0.0
    per_token_s: list[float] = field(default_factory=list)
    in_flight_sum: int = 0

    @property
    def calls(self) -> int:
        return len(self.per_token_s)


class AdaptiveConcurrency:
    def __init__(
        self,
        low: int,
        high: int,
        settings: ConcurrencySettings = ConcurrencySettings(),
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not 1 <= low <= high:
            raise ValueError(f"concurrency bounds must satisfy 1 <= min <= max, got {low}..{high}")
        self.low, self.high = low, high
        self.configured_high = high
        self._judged = False  # no window has moved the limit yet
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self.limit = low
        self._window = _Window(started=clock())
        self._last_goodput: float | None = None
        self._last_step = 0  # +1 after a probe up, -1 after a step down
        self._cooldown = 0
        self._baseline: float | None = None  # p95 seconds per output token at a healthy limit
        self._over_guard = 0  # consecutive windows above the latency guardrail
        self.changes: list[tuple[float, int, int, str]] = []  # (time, old, new, why)

    def set_bounds(self, low: int, high: int) -> None:
        """New bounds (settings changed): the limit is moved inside them at once."""
        if not 1 <= low <= high:
            raise ValueError(f"concurrency bounds must satisfy 1 <= min <= max, got {low}..{high}")
        with self._lock:
            if (low, high) == (self.low, self.configured_high):
                return
            hinted = self.high < self.configured_high  # a server's slot count capped it below the bound
            self.low, self.configured_high = low, high
            self.high = max(1, min(self.high, high)) if hinted else high
            self._set_unbounded(min(self.high, max(self.low, self.limit)), f"bounds now {low}..{high}")

    def hint_capacity(self, slots: int) -> None:
        """The server says how many requests it decodes at once (llama-server ``/slots``): more would only
        queue there (and a call queued behind another ends twice as late), so that caps the limit, below
        the lower bound too; before any window was judged, start there."""
        with self._lock:
            cap = max(1, min(self.configured_high, slots))
            self.high = cap
            if (not self._judged and self.limit != cap) or self.limit > cap:
                self._set_unbounded(cap, f"server reports {slots} slots")

    def effective(self, throttle_factor: float = 1.0, hot: bool = False) -> int:
        """The limit routing uses now: throttled by the node's controls, 1 while it is hot."""
        if hot:
            return 1
        return max(1, math.floor(self.limit * throttle_factor + 1e-9))

    def observe(self, completion_tokens: int, seconds: float, in_flight: int) -> None:
        """One finished call: its output tokens, its latency, the node's in-flight count when it ended."""
        with self._lock:
            w = self._window
            w.tokens += completion_tokens
            w.seconds += seconds
            w.per_token_s.append(seconds / max(1, completion_tokens))
            w.in_flight_sum += in_flight
            if w.calls >= self.settings.window_calls:
                self._close_window()

    def overload(self, why: str) -> None:
        """429 / 503 / timeout: cut at once and dwell before climbing again."""
        with self._lock:
            self._set(max(self.low, math.floor(self.limit * self.settings.cut_factor)), f"cut: {why}")
            self._judged = True  # a server hint no longer resets the limit
            self._cooldown = self.settings.cooldown_windows
            self._last_step = -1
            self._last_goodput = None
            self._window = _Window(started=self._clock())

    def _set(self, new: int, why: str) -> None:
        self._set_unbounded(min(self.high, max(min(self.low, self.high), new)), why)

    def _set_unbounded(self, new: int, why: str) -> None:
        if new != self.limit:
            self.changes.append((self._clock(), self.limit, new, why))
            self.limit = new

    def _close_window(self) -> None:
        w = self._window
        self._window = _Window(started=self._clock())
        mean_in_flight = w.in_flight_sum / w.calls
        # Little's law: tokens/s = requests in flight x tokens per request / seconds per request. Far less
        # noisy than tokens over the window's wall time, whose edges cut calls in flight arbitrarily.
        goodput = mean_in_flight * w.tokens / max(1e-6, w.seconds)
        p95 = percentile(w.per_token_s, 0.95)
        if mean_in_flight < self.limit / 2:
            return  # not enough demand to learn anything about this limit
        if self._cooldown:
            self._cooldown -= 1
            self._last_goodput = goodput
            return
        self._judged = True
        if self._baseline is None:
            self._baseline = p95
        over = p95 > self.settings.latency_guard * self._baseline
        self._over_guard = self._over_guard + 1 if over else 0
        if self._over_guard >= 2 and self.limit > self.low:  # twice in a row: not one noisy window
            self._set(
                self.limit - 1,
                f"p95 {p95 * 1000:.1f} ms/token > {self.settings.latency_guard}x baseline twice",
            )
            self._last_step, self._last_goodput, self._over_guard = -1, goodput, 0
            self._cooldown = 1
            return
        if over:
            self._last_goodput = goodput
            return
        if (
            self._last_step == 1
            and self._last_goodput is not None
            and goodput < self.settings.min_gain * (self._last_goodput)
        ):
            self._set(self.limit - 1, f"no goodput gain at {self.limit} ({goodput:.0f} tokens/s)")
            self._last_step, self._last_goodput = -1, None
            self._cooldown = self.settings.cooldown_windows
            return
        a = self.settings.baseline_alpha
        self._baseline = (1 - a) * self._baseline + a * p95
        self._last_goodput = goodput
        if self.limit < self.high:
            self._set(self.limit + 1, f"probe up ({goodput:.0f} tokens/s at {self.limit})")
            self._last_step = 1
        else:
            self._last_step = 0
