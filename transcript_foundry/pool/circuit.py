"""A per-node circuit breaker: closed -> open -> half-open -> closed (or open again, for twice as long).

Closed: calls flow; the breaker opens on ``failure_threshold`` consecutive failures, or when at least
``failure_rate`` of the last ``min_calls``+ calls within ``window_s`` failed. Open: nothing is routed to the
node for ``open_s`` (doubling on every failed probe, up to ``max_open_s``). Half-open: exactly one probe
call is let through; its success closes the breaker, its failure opens it again. Transitions go to
``on_change(from_state, to_state, reason)`` so the pool can record them as node events.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

CircuitState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class CircuitSettings:
    failure_threshold: int = 5
    failure_rate: float = 0.5
    min_calls: int = 10
    window_s: float = 60.0
    open_s: float = 15.0
    max_open_s: float = 300.0

    @classmethod
    def from_settings(cls, circuit: Any) -> CircuitSettings:
        """From a ``transcript_foundry.settings.model.CircuitBreakerSettings``."""
        return cls(
            failure_threshold=circuit.failure_threshold,
            failure_rate=circuit.failure_rate,
            min_calls=circuit.min_calls,
            window_s=circuit.window_s,
            open_s=circuit.open_s,
            max_open_s=circuit.max_open_s,
        )


class CircuitBreaker:
    def __init__(
        self,
        settings: CircuitSettings = CircuitSettings(),
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, str, str], None] | None = None,
    ):
        self.settings = settings
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._state: CircuitState = "closed"
        self._consecutive = 0
        self._calls: deque[tuple[float, bool]] = deque()
        self._open_for = settings.open_s
        self._reopen_at = 0.0
        self._probe_in_flight = False
        self.last_reason: str | None = None

    def configure(self, settings: CircuitSettings) -> None:
        """New settings (hot reload): they apply from the next call; a closed breaker's next open period
        starts at the new ``open_s``."""
        with self._lock:
            if settings == self.settings:
                return
            self.settings = settings
            if self._state == "closed":
                self._open_for = settings.open_s
            else:
                self._open_for = min(max(self._open_for, settings.open_s), settings.max_open_s)

    # ---- reading --------------------------------------------------------------------------------------
    @property
    def state(self) -> CircuitState:
        return self._state  # one attribute read: atomic, no lock needed

    def blocked_reason(self) -> str | None:
        """Why routing must skip the node now (open and not due, or a probe already out), else None."""
        if self._state == "closed":  # the common case, read without the lock
            return None
        with self._lock:
            if self._state == "open" and self._clock() < self._reopen_at:
                wait = self._reopen_at - self._clock()
                return f"circuit open ({self.last_reason}); half-open probe in {wait:.1f} s"
            if self._state == "half_open" and self._probe_in_flight:
                return "circuit half-open: its probe call is in flight"
            return None

    def reopens_in(self) -> float:
        with self._lock:
            return max(0.0, self._reopen_at - self._clock()) if self._state == "open" else 0.0

    # ---- calls ----------------------------------------------------------------------------------------
    def try_acquire(self) -> bool:
        """Take the right to send one call; an open breaker that is due turns half-open for one probe."""
        change = None
        with self._lock:
            if self._state == "open":
                if self._clock() < self._reopen_at:
                    return False
                change = (self._state, "half_open", "open period over: one probe call")
                self._state = "half_open"
            if self._state == "half_open":
                if self._probe_in_flight:
                    return False
                self._probe_in_flight = True
        if change:
            self._notify(*change)
        return True

    def record_success(self) -> None:
        change = None
        with self._lock:
            self._remember(True)
            self._consecutive = 0
            if self._state == "half_open":
                self._probe_in_flight = False
                self._open_for = self.settings.open_s
                change = (self._state, "closed", "probe call succeeded")
                self._state = "closed"
                self.last_reason = None
        if change:
            self._notify(*change)

    def record_failure(self, reason: str) -> None:
        change = None
        with self._lock:
            self._remember(False)
            self._consecutive += 1
            if self._state == "half_open":
                self._probe_in_flight = False
                self._open_for = min(self._open_for * 2, self.settings.max_open_s)
                change = self._open(f"probe failed: {reason}")
            elif self._state == "closed":
                failures = sum(1 for _, ok in self._calls if not ok)
                if self._consecutive >= self.settings.failure_threshold:
                    change = self._open(f"{self._consecutive} failures in a row, last: {reason}")
                elif len(self._calls) >= self.settings.min_calls and failures / len(self._calls) >= (
                    self.settings.failure_rate
                ):
                    change = self._open(
                        f"{failures} of the last {len(self._calls)} calls failed, last: {reason}"
                    )
        if change:
            self._notify(*change)

    def release_probe(self) -> None:
        """A probe that ended without a verdict on the node (e.g. a content failure): let another go."""
        with self._lock:
            self._probe_in_flight = False

    # ---- internals ------------------------------------------------------------------------------------
    def _open(self, reason: str) -> tuple[str, str, str]:
        before = self._state
        self._state = "open"
        self._reopen_at = self._clock() + self._open_for
        self.last_reason = reason
        return before, "open", f"{reason}; open for {self._open_for:g} s"

    def _remember(self, ok: bool) -> None:
        now = self._clock()
        self._calls.append((now, ok))
        while self._calls and now - self._calls[0][0] > self.settings.window_s:
            self._calls.popleft()

    def _notify(self, before: str, after: str, reason: str) -> None:
        if self._on_change is not None:
            self._on_change(before, after, reason)
