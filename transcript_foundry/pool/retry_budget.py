"""A retry budget: retries may be at most ``ratio`` of the requests of the last ``window_s`` seconds
(plus a small floor), so that during an outage retries cannot multiply the load on the fleet.

The requests are the first attempts of the window, or the work still outstanding (``outstanding``: items
waiting or running in the dispatcher) when that is more: a long run keeps its budget after its first
attempts left the window, and a batch that starts a few calls at a time has the budget of all its work.

Like Envoy's ``retry_budget`` and tower's ``Budget``: each first attempt deposits, each retry withdraws.
The dispatcher books its retries with ``reserve``: a retry that does not fit now is booked for the
earliest moment it fits, so a spent budget slows retries down (faults cost time) instead of failing
the work; in no window do the retries sent exceed the allowance.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RetryBudgetSettings:
    ratio: float = 0.2
    min_retries: int = 3  # always allowed per window, so a quiet pool can still retry
    window_s: float = 10.0

    @classmethod
    def from_settings(cls, retry: Any) -> RetryBudgetSettings:
        """From a ``transcript_foundry.settings.model.RetrySettings``."""
        return cls(
            ratio=retry.budget_ratio, min_retries=retry.budget_min_retries, window_s=retry.budget_window_s
        )


class RetryBudget:
    def __init__(
        self,
        settings: RetryBudgetSettings = RetryBudgetSettings(),
        *,
        clock: Callable[[], float] = time.monotonic,
        outstanding: Callable[[], int] | None = None,
    ):
        if not 0.0 <= settings.ratio <= 1.0:
            raise ValueError(f"retry budget ratio must be in [0, 1], got {settings.ratio}")
        self.settings = settings
        self._clock = clock
        self.outstanding = outstanding
        self._lock = threading.Lock()
        self._requests: deque[float] = deque()
        self._retries: list[float] = []  # sorted; booked retries may lie in the future
        self.refused = 0
        self.spent = 0
        self.paced = 0  # retries booked for later because the budget was spent

    def _trim(self, now: float) -> None:
        window = self.settings.window_s
        while self._requests and now - self._requests[0] > window:
            self._requests.popleft()
        expired = bisect.bisect_left(self._retries, now - window)  # those older than the window
        if expired:
            del self._retries[:expired]

    def record_request(self) -> None:
        with self._lock:
            self._requests.append(self._clock())

    def allowance(self) -> int:
        with self._lock:
            self._trim(self._clock())
            return self._allowance()

    def _allowance(self) -> int:
        requests = len(self._requests)
        if self.outstanding is not None:
            requests = max(requests, self.outstanding())
        return max(self.settings.min_retries, int(self.settings.ratio * requests))

    def try_spend(self) -> bool:
        """True (and counted) when one more retry fits in the budget now."""
        with self._lock:
            now = self._clock()
            self._trim(now)
            if len(self._retries) >= self._allowance():
                self.refused += 1
                return False
            bisect.insort(self._retries, now)
            self.spent += 1
            return True

    def reserve(self, earliest: float | None = None) -> float:
        """Book one retry at the earliest moment from ``earliest`` (default now) that fits in the budget, and
        return that moment. A booked retry counts until it leaves the window; a moment fits when fewer than
        the allowance are booked within ``window_s`` either side of it, so however many are booked, no window
        of ``window_s`` holds more than the allowance."""
        window = self.settings.window_s
        with self._lock:
            now = self._clock()
            self._trim(now)
            allowance = self._allowance()
            start = when = max(now, earliest if earliest is not None else now)
            if allowance <= 0:
                when += window
            else:
                while True:
                    low = bisect.bisect_right(self._retries, when - window)
                    high = bisect.bisect_left(self._retries, when + window)
                    if high - low < allowance:
                        break
                    when = self._retries[low] + window + 1e-6  # the oldest of them has left the window
            bisect.insort(self._retries, when)
            self.spent += 1
            if when > start:
                self.paced += 1
            return when
