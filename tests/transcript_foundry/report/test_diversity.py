"""Diversity numbers on sets built so the expected values are known by hand."""

import numpy as np
import pytest

from transcript_foundry.report.diversity import diversity, embedding_spread, self_bleu


def call(*texts: str) -> dict:
    return {"turns": [{"speaker": ("AGENT", "CUSTOMER")[i % 2], "text": t} for i, t in enumerate(texts)]}


def test_two_identical_calls() -> None:
    same = call("hello there", "hello again")
    result = diversity([same, same], embed_calls=None)
    # unigrams: hello there hello again, twice: 8 in all, 3 distinct; bigrams: 4 in all, 2 distinct
    assert result["distinct_1"] == 0.375 and result["distinct_2"] == 0.5 and result["distinct_3"] == 0.0
    assert result["by_speaker"]["AGENT"] == {"distinct_1": 0.5, "distinct_2": 0.5, "distinct_3": 0.0}
    assert result["self_bleu"] == 1.0
    assert result["distinct_openings"] == 1 and result["distinct_closings"] == 1


def test_self_bleu_by_hand() -> None:
    # "a b c d" against "a b c e": p1 3/4, p2 (2+1)/(3+1), p3 (1+1)/(2+1), p4 (0+1)/(1+1); equal lengths
    expected = (0.75 * 0.75 * (2 / 3) * 0.5) ** 0.25
    assert self_bleu([["a", "b", "c", "d"], ["a", "b", "c", "e"]]) == pytest.approx(expected, abs=1e-4)
    assert self_bleu([["a", "b"], ["c", "d"]]) == 0.0
    assert self_bleu([["a", "b"]]) is None
    # clipping uses the best *other* call: a call repeated three times still scores 1.0 against its copies
    assert self_bleu([["x", "y", "z", "w"]] * 3) == 1.0


def test_embedding_spread_and_near_duplicates() -> None:
    same = embedding_spread(np.array([[1.0, 0.0], [1.0, 0.0]]))
    assert same.spread == 0.0 and same.near_duplicate_share == 1.0
    apart = embedding_spread(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    # pairs: (0,1) 0, (0,2) 0, (1,2) 1 -> mean 1/3; calls 1 and 2 are near-duplicates of each other
    assert apart.spread == pytest.approx(2 / 3, abs=1e-4) and apart.near_duplicate_share == pytest.approx(
        2 / 3, abs=1e-4
    )


def test_openings_count_the_first_five_words_with_digits_masked() -> None:
    calls = [
        call("Thank you for calling Acme, line 1", "hi"),
        call("Thank you for calling Acme, line 2", "hey"),
    ]
    calls.append(call("Good morning, how can I help?", "hi"))
    result = diversity(calls, embed_calls=None)
    assert result["distinct_openings"] == 2 and result["top_openings"][0] == ("thank you for calling acme", 2)
    assert result["distinct_closings"] == 2
