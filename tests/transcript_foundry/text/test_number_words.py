"""Counts as people type them: digits, separators, k suffixes and English number words."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from transcript_foundry.text.number_words import (
    NUMBER_PATTERN,
    SPACE_GROUPED_PATTERN,
    NumberMatch,
    find_numbers,
    format_number,
    parse_number,
)


@pytest.mark.parametrize(
    ("phrase", "value"),
    [
        ("500", 500),
        ("0", 0),
        ("1,500", 1500),
        ("1,000,000", 1_000_000),
        ("1_000", 1000),
        ("1 500", 1500),
        ("12 500", 12500),
        ("2k", 2000),
        ("2K", 2000),
        ("10k", 10000),
        ("2.5k", 2500),
        (".5k", 500),
        ("3 thousand", 3000),
        ("1.5 thousand", 1500),
        ("2 million", 2_000_000),
        ("2 dozen", 24),
        ("zero", 0),
        ("seven", 7),
        ("twelve", 12),
        ("nineteen", 19),
        ("forty", 40),
        ("twenty-five", 25),
        ("twenty five", 25),
        ("two hundred", 200),
        ("a hundred", 100),
        ("one hundred and twenty", 120),
        ("one hundred twenty five", 125),
        ("twenty five hundred", 2500),
        ("a thousand", 1000),
        ("three thousand five hundred", 3500),
        ("one thousand two hundred and thirty four", 1234),
        ("a hundred thousand", 100_000),
        ("a million", 1_000_000),
        ("a dozen", 12),
        ("half a dozen", 6),
        ("two dozen", 24),
        ("a couple of", 2),
        ("a couple", 2),
        ("couple of", 2),
        ("a pair of", 2),
        ("Two Hundred", 200),
        ("-5", -5),
        ("minus five", -5),
        ("negative 3", -3),
    ],
)
def test_parse_number_whole_values(phrase: str, value: int) -> None:
    assert parse_number(phrase) == Fraction(value)


@pytest.mark.parametrize(
    ("phrase", "value"),
    [
        ("2.5", Fraction(5, 2)),
        ("0.9", Fraction(9, 10)),
        ("1.2345k", Fraction(2469, 2)),
        ("half a thousand", 500),
    ],
)
def test_parse_number_keeps_fractions_exact(phrase: str, value: Fraction) -> None:
    assert parse_number(phrase) == value


@pytest.mark.parametrize(
    "phrase",
    [
        "",
        "a",
        "half",
        "abc",
        "five five",
        "twenty thirty",
        "twelve three",
        "hundred",
        "hundred thousand hundred",
        "thousand million",
        "a dozen five",
        "1,50",
        "1,5000",
        "dozens",
        "3 five",
    ],
)
def test_parse_number_rejects_non_numbers(phrase: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_number(phrase)


def test_find_numbers_positions_and_values() -> None:
    text = "Generate two hundred calls, seed 42, 10-15 turns"
    assert find_numbers(text) == [
        NumberMatch(9, 20, "two hundred", Fraction(200)),
        NumberMatch(33, 35, "42", Fraction(42)),
        NumberMatch(37, 39, "10", Fraction(10)),
        NumberMatch(40, 42, "15", Fraction(15)),
    ]


def test_and_joins_only_after_a_scale_word() -> None:
    assert [m.value for m in find_numbers("between eight and twelve turns")] == [8, 12]
    assert [m.value for m in find_numbers("one hundred and twelve turns")] == [112]


def test_number_words_inside_other_words_are_not_numbers() -> None:
    assert find_numbers("someone often wonders about tennis, v2 and the 15th item") == []


def test_space_groups_only_on_request() -> None:
    text = "1 500 calls"
    assert [m.value for m in find_numbers(text)] == [1, 500]
    assert find_numbers(text, space_groups=True) == [NumberMatch(0, 5, "1 500", Fraction(1500))]


def test_space_grouping_needs_groups_of_three_digits() -> None:
    assert re.fullmatch(SPACE_GROUPED_PATTERN, "1 500")
    assert re.fullmatch(SPACE_GROUPED_PATTERN, "1 000 000")
    assert not re.fullmatch(SPACE_GROUPED_PATTERN, "1 50")
    assert not re.fullmatch(SPACE_GROUPED_PATTERN, "10 1500")
    assert [m.value for m in find_numbers("10 1500", space_groups=True)] == [10, 1500]


def test_minus_sign_only_at_the_start_of_a_number() -> None:
    assert [m.value for m in find_numbers("10-15 turns")] == [10, 15]
    assert [m.value for m in find_numbers("make -5 calls")] == [-5]


def test_pattern_embeds_in_larger_expressions() -> None:
    match = re.search(
        rf"(?P<low>{NUMBER_PATTERN})\s*to\s*(?P<high>{NUMBER_PATTERN})\s+turns", "ten to fifteen turns"
    )
    assert match is not None
    assert (parse_number(match.group("low")), parse_number(match.group("high"))) == (10, 15)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(1500), "1,500"),
        (Fraction(5, 2), "2.5"),
        (Fraction(-3), "-3"),
        (Fraction(2_000_000), "2,000,000"),
    ],
)
def test_format_number(value: Fraction, text: str) -> None:
    assert format_number(value) == text
