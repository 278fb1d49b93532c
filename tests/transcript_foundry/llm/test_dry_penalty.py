"""DRY sampling: the token that would continue a run already in the context is penalised."""

from __future__ import annotations

import numpy as np
import pytest

from transcript_foundry.llm.dry_penalty import DryPenalty

# A toy vocabulary: token id -> text. 9 is a newline, 8 a colon (sequence breakers).
VOCAB = {
    0: " the",
    1: " bill",
    2: " is",
    3: " wrong",
    4: " again",
    5: " I",
    6: " want",
    7: " a",
    8: ":",
    9: "\n",
}


def dry(**kwargs: float) -> DryPenalty:
    return DryPenalty(lambda t: VOCAB[t], **kwargs)  # type: ignore[arg-type]


def ids(*tokens: int) -> np.ndarray:
    return np.array(tokens, dtype=np.intc)


def test_continuing_an_earlier_run_is_penalised_exponentially_in_its_length() -> None:
    d = dry(multiplier=1.0, base=2.0, allowed_length=2)
    # " the bill is wrong" occurred; the context now ends in " the bill is": " wrong" would extend a run of 3.
    penalties = d.penalties(ids(0, 1, 2, 3, 9, 5, 6, 0, 1, 2))
    assert penalties == {3: pytest.approx(2.0)}  # 1.0 * 2 ** (3 - 2)
    longer = d.penalties(ids(5, 0, 1, 2, 3, 9, 4, 5, 0, 1, 2))  # " I the bill is" repeats: run of 4
    assert longer[3] == pytest.approx(4.0)


def test_runs_shorter_than_the_allowed_length_are_free() -> None:
    d = dry(allowed_length=3)
    assert d.penalties(ids(0, 1, 2, 9, 4, 0, 1)) == {}  # " the bill" (2) then " is": below 3


def test_runs_stop_at_sequence_breakers() -> None:
    d = dry(multiplier=1.0, base=2.0, allowed_length=2)
    # The earlier " bill" follows a newline, the current one follows a colon: the match cannot cross either.
    assert d.penalties(ids(9, 1, 2, 5, 8, 1)) == {}
    assert d.penalties(ids(0, 1, 2, 9)) == {}  # the context ends in a breaker: nothing is penalised


def test_call_subtracts_the_penalty_from_the_scores() -> None:
    d = dry(multiplier=0.5, base=1.75, allowed_length=2)
    scores = np.zeros(len(VOCAB), dtype=np.single)
    out = d(ids(0, 1, 2, 9, 0, 1), scores)
    assert out[2] == pytest.approx(-0.5)
    assert np.count_nonzero(out) == 1


def test_the_window_limits_how_far_back_it_looks() -> None:
    context = ids(0, 1, 2, *([4] * 10), 0, 1)
    assert dry(window=100).penalties(context)
    assert dry(window=6).penalties(context) == {}


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="base >= 1"):
        dry(base=0.5)
