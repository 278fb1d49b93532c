"""Spoken numbers, dates and addresses rewritten for detection, mapped back to the original characters."""

from __future__ import annotations

import pytest

from transcript_foundry.phi.normalised_text import NormalisedText, Rewrite, merge_rewrites
from transcript_foundry.phi.spoken_contacts import spoken_contact_rewrites
from transcript_foundry.phi.spoken_numbers import (
    say_digits,
    say_number,
    say_ordinal,
    say_year,
    spoken_date_rewrites,
    spoken_number_rewrites,
)


def normalise(text: str) -> NormalisedText:
    contacts = spoken_contact_rewrites(text)
    dates = spoken_date_rewrites(text)
    numbers = spoken_number_rewrites(text, [(r.start, r.end) for r in contacts + dates])
    return NormalisedText(text, merge_rewrites(contacts, dates, numbers))


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("call me at four one five, five five five, oh one two three.", "call me at 415-555-0123."),
        ("I was born March third nineteen fifty-two", "I was born March 3 1952"),
        ("I was born March three, nineteen fifty-two", "I was born March 3, 1952"),
        ("on the twenty-first of June", "on the 21 of June"),
        ("it's four twelve Maple Street", "it's 412 Maple Street"),
        ("twenty-two hundred Oak Avenue", "2200 Oak Avenue"),
        ("four hundred and twelve Elm Street", "412 Elm Street"),
        ("my ID is H P four four eight one two nine", "my ID is HP448129"),
        ("double five triple seven", "55777"),
        ("two thousand and nine", "2009"),
        ("nineteen oh five", "1905"),
        ("one ninety two dot one sixty eight dot one dot forty-two", "192.168.1.42"),
        ("oh three slash oh three slash fifty two", "03/03/52"),
        ("five four three dash two one dash nine eight seven six", "543-21-9876"),
        ("jane dot doe at gmail dot com", "jane.doe@gmail.com"),
        ("my zip is 9 0 2 1 0", "my zip is 90210"),
        ("I have 2 kids and 3 dogs", "I have 2 kids and 3 dogs"),
        ("visit www dot bluepine dot com slash portal today", "visit www.bluepine.com/portal today"),
    ],
)
def test_spoken_forms_become_digits(spoken: str, written: str) -> None:
    assert normalise(spoken).text == written


@pytest.mark.parametrize(
    "text",
    [
        "Oh, I see what you mean.",
        "I have a question about my bill.",
        "Can you help me with that? I need it by Friday.",
        "Please hold for one moment.",
        "you may remember me",
    ],
)
def test_ordinary_speech_is_left_alone(text: str) -> None:
    normalised = normalise(text)
    # Small numbers may become digits ("one moment" → "1 moment"); nothing else changes.
    assert normalised.text.replace("1", "one") == text


def test_offsets_map_back_to_the_spoken_words() -> None:
    text = "My number is four one five, five five five, oh one two three, thanks."
    normalised = normalise(text)
    start = normalised.text.index("415")
    end = start + len("415-555-0123")
    o_start, o_end = normalised.to_original(start, end)
    assert text[o_start:o_end] == "four one five, five five five, oh one two three"
    assert normalised.touches_rewrite(start, end)
    # Untouched text maps one to one.
    t_start = normalised.text.index("thanks")
    assert normalised.to_original(t_start, t_start + 6) == (text.index("thanks"), text.index("thanks") + 6)
    assert not normalised.touches_rewrite(t_start, t_start + 6)


def test_a_span_inside_a_rewrite_grows_to_the_whole_rewrite() -> None:
    text = "zip nine oh two one oh"
    normalised = NormalisedText(text, [Rewrite(4, len(text), "90210")])
    assert normalised.to_original(5, 7) == (4, len(text))


def test_overlapping_rewrites_keep_the_earlier_group() -> None:
    merged = merge_rewrites([Rewrite(0, 5, "a")], [Rewrite(3, 8, "b"), Rewrite(9, 10, "c")])
    assert [(r.start, r.text) for r in merged] == [(0, "a"), (9, "c")]
    with pytest.raises(ValueError, match="overlapping"):
        NormalisedText("0123456789", [Rewrite(0, 5, "a"), Rewrite(3, 8, "b")])


def test_numbers_are_said_back_in_words() -> None:
    assert say_digits("628-555-0187") == "six two eight, five five five, zero one eight seven"
    assert say_digits("HP448") == "H P four four eight"
    assert say_digits("192.168.1.4") == "one nine two dot one six eight dot one dot four"
    assert (say_year(1947), say_year(2005), say_year(1905), say_year(2000)) == (
        "nineteen forty-seven",
        "two thousand five",
        "nineteen oh five",
        "two thousand",
    )
    assert (say_ordinal(3), say_ordinal(21), say_ordinal(30)) == ("third", "twenty-first", "thirtieth")
    assert (say_number(92), say_number(412), say_number(13)) == (
        "ninety-two",
        "four hundred twelve",
        "thirteen",
    )
    # What is said can be read back: the rendering round-trips through the normaliser.
    assert normalise(say_digits("628-555-0187")).text == "628-555-0187"
    assert normalise(f"March {say_ordinal(21)}, {say_year(1947)}").text == "March 21, 1947"
