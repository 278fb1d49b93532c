"""DRY ("don't repeat yourself") sampling over the whole prompt, for in-process llama.cpp.

A small base model writing one turn per completion likes to copy an earlier turn (an echo, a loop) or a
line of the few-shot exemplars. llama-cpp-python's repeat penalty only sees the tokens of the current
completion (prompt tokens never reach its sampler), so it cannot stop that. This logits processor looks at
the whole context (the last ``window`` tokens): when the tokens just generated repeat a run that already
occurs in the context, the token that continued that run is penalised, exponentially in the run's length
(llama.cpp's DRY sampler: ``multiplier * base ** (length - allowed_length)``). Runs are not followed back
across sequence breakers (newline, colon, brackets, quotes), so the labels every line shares are no run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

DEFAULT_BREAKERS = ("\n", ":", '"', "*", "(", ")")


class DryPenalty:
    def __init__(
        self,
        token_text: Callable[[int], str],
        *,
        multiplier: float = 0.8,
        base: float = 1.75,
        allowed_length: int = 2,
        window: int = 2048,
        max_run: int = 24,
        breakers: tuple[str, ...] = DEFAULT_BREAKERS,
    ):
        if multiplier < 0 or base < 1 or allowed_length < 1 or window < 2:
            raise ValueError("DRY needs multiplier >= 0, base >= 1, allowed_length >= 1 and window >= 2")
        self._token_text = token_text
        self.multiplier = multiplier
        self.base = base
        self.allowed_length = allowed_length
        self.window = window
        self.max_run = max_run
        self._breakers = breakers
        self._is_breaker: dict[int, bool] = {}

    def breaker(self, token: int) -> bool:
        known = self._is_breaker.get(token)
        if known is None:
            text = self._token_text(token)
            known = self._is_breaker[token] = any(b in text for b in self._breakers)
        return known

    def penalties(self, context: npt.NDArray[np.intc]) -> dict[int, float]:
        """Token id -> logit penalty for the token that would follow ``context``."""
        ctx = context[-self.window :]
        n = len(ctx)
        if n < 2 or self.breaker(int(ctx[-1])):
            return {}
        runs: dict[int, int] = {}
        for j in np.flatnonzero(ctx[:-1] == ctx[-1]):
            length = 1
            while (
                length < self.max_run
                and j - length >= 0
                and ctx[j - length] == ctx[n - 1 - length]
                and not self.breaker(int(ctx[j - length]))
            ):
                length += 1
            follower = int(ctx[j + 1])
            if length > runs.get(follower, 0):
                runs[follower] = length
        return {
            token: self.multiplier * self.base ** (length - self.allowed_length)
            for token, length in runs.items()
            if length >= self.allowed_length
        }

    def __call__(
        self, input_ids: npt.NDArray[np.intc], scores: npt.NDArray[np.single]
    ) -> npt.NDArray[np.single]:
        for token, penalty in self.penalties(input_ids).items():
            scores[token] -= penalty
        return scores
