"""Numbers as callers say them, rewritten into digits for detection, and digits said back as words.

``spoken_number_rewrites(text)`` finds runs of number words and rewrites each into digits, so the
recognizers see ``415-555-0123`` where the caller said "four one five, five five five, oh one two three":

* digit by digit ("four one five"), with "oh" for zero and "double five" / "triple seven";
* in pairs and compounds ("nineteen fifty-two" → 1952, "four twelve" → 412, "twenty-two hundred" → 2200,
  "two thousand and nine" → 2009);
* spelled letters inside a run ("H P four four eight" → HP448);
* a comma, hyphen or "dash" between groups becomes ``-``, "dot" / "point" ``.``, "slash" ``/``;
* a day after a month name or before "of <month>" ("March third", "the twenty-first of June") → 3, 21.

Everything else is left alone; the rewrites carry their original offsets (see ``normalised_text``).
The rendering helpers (``say_digits``, ``say_year``, ``say_ordinal``) let a surrogate be spoken the way the
original was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from transcript_foundry.phi.normalised_text import Rewrite
from transcript_foundry.text.number_words import TEENS, TENS, UNITS

DIGIT_WORDS: dict[str, int] = {**UNITS, "oh": 0}
ORDINALS: dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
_REPEAT = {"double": 2, "triple": 3}
_SEPARATOR_WORDS = {"dash": "-", "hyphen": "-", "dot": ".", "point": ".", "slash": "/"}
_SCALES = {"hundred": 100, "thousand": 1000}

MONTH_PATTERN = (
    r"(?:(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)(?![a-z])"
)
_ORD_SIMPLE = "|".join(sorted(ORDINALS, key=len, reverse=True))
_ORD_UNIT = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
_CARD_UNIT = "one|two|three|four|five|six|seven|eight|nine"
_ORDINAL_DAY = rf"(?:(?:twenty|thirty)[- ](?:{_ORD_UNIT})|{_ORD_SIMPLE})"
_CARDINAL_DAY = (
    rf"(?:(?:twenty|thirty)[- ](?:{_CARD_UNIT})|{'|'.join(sorted(TEENS, key=len, reverse=True))}"
    rf"|twenty|thirty|{_CARD_UNIT})"
)
_MONTH_THEN_DAY = re.compile(
    rf"\b{MONTH_PATTERN}\s+(?:the\s+)?(?P<day>{_ORDINAL_DAY}|{_CARDINAL_DAY})\b", re.IGNORECASE
)
_DAY_OF_MONTH = re.compile(rf"\b(?P<day>{_ORDINAL_DAY})\s+of\s+{MONTH_PATTERN}", re.IGNORECASE)
_ON_THE_DAY = re.compile(
    rf"\b(?:on|by|until|before|after|since) the (?P<day>{_ORDINAL_DAY})(?=\s*(?:[.,;?!]|$|at\b|of\b|in the\b))",
    re.IGNORECASE,
)
_MONTH_CASED = re.compile(rf"^{MONTH_PATTERN}$")

_TOKEN = re.compile(r"[A-Za-z]+|\d+")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str
    kind: str | None  # digit teen tens scale repeat sep letter digits and


def _word_kind(word: str) -> str | None:
    lower = word.lower()
    if lower in DIGIT_WORDS:
        return "digit"
    if lower in TEENS:
        return "teen"
    if lower in TENS:
        return "tens"
    if lower in _SCALES:
        return "scale"
    if lower in _REPEAT:
        return "repeat"
    if lower in _SEPARATOR_WORDS:
        return "sep"
    if lower == "and":
        return "and"
    if word.isdigit():
        return "digits"
    if len(word) == 1 and word.isupper() and word != "I":
        return "letter"
    return None


_NUMBER_KINDS = {"digit", "teen", "tens", "scale"}


def _gap(text: str) -> str | None:
    """How two neighbouring tokens are joined: ``""`` (same group), ``-``, ``.``, ``/``, or None (the run ends)."""
    if text == "-" or re.fullmatch(r"\s+", text):
        return "" if text != "-" else "-"
    if re.fullmatch(r"\s*[,;]\s*|\s*[-–]\s*", text):
        return "-"
    if text in (".", "/"):
        return text
    return None


def _runs(text: str, taken: list[tuple[int, int]]) -> list[list[tuple[str, _Token]]]:
    """Maximal runs of number-ish tokens, each token with the joiner before it."""
    tokens = []
    for m in _TOKEN.finditer(text):
        free = all(m.end() <= s or m.start() >= e for s, e in taken)
        tokens.append(_Token(m.start(), m.end(), m.group(), _word_kind(m.group()) if free else None))
    runs: list[list[tuple[str, _Token]]] = []
    current: list[tuple[str, _Token]] = []
    for index, token in enumerate(tokens):
        joiner = _gap(text[tokens[index - 1].end : token.start]) if index else None
        if token.kind == "and":
            after = tokens[index + 1] if index + 1 < len(tokens) else None
            if not (current and current[-1][1].kind == "scale" and after and after.kind in _NUMBER_KINDS):
                token = _Token(token.start, token.end, token.text, None)
        if token.kind is None:
            if current:
                runs.append(current)
            current = []
            continue
        if current and joiner is None:
            runs.append(current)
            current = []
        current.append(("" if not current else joiner or "", token))
    if current:
        runs.append(current)
    return [trimmed for run in runs if (trimmed := _trim(run))]


def _trim(run: list[tuple[str, _Token]]) -> list[tuple[str, _Token]]:
    while run and (run[0][1].kind in ("sep", "and") or _lone_oh(run) or _dangling_repeat(run)):
        run = run[1:]
    while run and (run[-1][1].kind in ("sep", "repeat", "and") or run[-1][1].text == "A"):
        run = run[:-1]  # a trailing "A" is an article ("two A..." is rare), other letters end IDs ("four B")
    if all(t.kind == "digits" and len(t.text) == 1 for _, t in run) and len(run) >= 3:
        return run  # digits read out one by one: "9 0 2 1 0"
    if not any(t.kind in _NUMBER_KINDS for _, t in run):
        return []
    if all(t.kind == "digits" or t.kind == "letter" for _, t in run):
        return []
    return run


def _dangling_repeat(run: list[tuple[str, _Token]]) -> bool:
    """ "double" / "triple" not followed by a digit word."""
    return run[0][1].kind == "repeat" and (len(run) == 1 or run[1][1].kind != "digit")


def _lone_oh(run: list[tuple[str, _Token]]) -> bool:
    """A leading "Oh," is an exclamation, not a zero."""
    first = run[0][1]
    return first.text.lower() == "oh" and (len(run) == 1 or run[1][0] != "")


def _compound(words: list[str], i: int) -> tuple[str, int]:
    """The number that starts at ``words[i]``: "fifty-two", "four hundred twelve", "two thousand and nine"."""
    word = words[i]
    if word in _SCALES:
        return str(_SCALES[word]), i + 1
    if word in DIGIT_WORDS:
        value, i = DIGIT_WORDS[word], i + 1
        if word in ("oh", "zero"):
            return "0", i
    elif word in TEENS:
        value, i = TEENS[word], i + 1
    else:
        value, i = TENS[word], i + 1
        if i < len(words) and words[i] in UNITS and UNITS[words[i]] > 0:
            value, i = value + UNITS[words[i]], i + 1
    if i < len(words) and words[i] in _SCALES:
        scale = _SCALES[words[i]]
        value, i = value * scale, i + 1
        if scale == 1000 and i + 1 < len(words) and words[i] in UNITS and words[i + 1] == "hundred":
            value, i = value + UNITS[words[i]] * 100, i + 2
        if i < len(words) and words[i] == "and":
            i += 1
        if i < len(words) and (words[i] in TEENS or words[i] in TENS or UNITS.get(words[i], 0) > 0):
            rest, i = _compound(words, i)
            value += int(rest)
    return str(value), i


def _words_to_digits(words: list[str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _REPEAT and i + 1 < len(words) and words[i + 1] in DIGIT_WORDS:
            out.append(str(DIGIT_WORDS[words[i + 1]]) * _REPEAT[word])
            i += 2
        elif word in _REPEAT or word == "and":
            i += 1
        else:
            value, i = _compound(words, i)
            out.append(value)
    return "".join(out)


def _run_text(run: list[tuple[str, _Token]]) -> str:
    out: list[str] = []
    words: list[str] = []

    def flush() -> None:
        if words:
            out.append(_words_to_digits(words))
            words.clear()

    for joiner, token in run:
        if joiner:
            flush()
            if not (out and out[-1] in "-./"):
                out.append(joiner)
        if token.kind == "sep":
            flush()
            if not (out and out[-1] in "-./"):
                out.append(_SEPARATOR_WORDS[token.text.lower()])
        elif token.kind in ("digits", "letter"):
            flush()
            out.append(token.text.upper())
        else:
            # "fifty-two" arrives as "fifty", "two" joined by "-": keep a tens-unit pair together.
            words.append(token.text.lower())
    flush()
    return "".join(out).strip("-./")


def _join_tens_units(run: list[tuple[str, _Token]]) -> list[tuple[str, _Token]]:
    """ "fifty-two": the hyphen inside a tens-unit word is not a group separator."""
    joined: list[tuple[str, _Token]] = []
    for joiner, token in run:
        if (
            joiner == "-"
            and joined
            and joined[-1][1].kind == "tens"
            and token.text.lower() in UNITS
            and UNITS[token.text.lower()] > 0
            and token.start - joined[-1][1].end == 1
        ):
            joiner = ""
        joined.append((joiner, token))
    return joined


def spoken_date_rewrites(text: str) -> list[Rewrite]:
    """Days said as words next to a month name ("March third", "the twenty-first of June") → digits."""
    rewrites: list[Rewrite] = []
    for pattern in (_MONTH_THEN_DAY, _DAY_OF_MONTH, _ON_THE_DAY):
        for m in pattern.finditer(text):
            month = m.group(0)[: m.start("day") - m.start()].split()[0] if pattern is _MONTH_THEN_DAY else ""
            if pattern is _MONTH_THEN_DAY and not _MONTH_CASED.match(month):
                continue  # "may the fourth" is a verb, "May the fourth" a date
            words = re.split(r"[- ]+", m.group("day").lower())
            value = sum(
                ORDINALS.get(w, 0) or TENS.get(w, 0) or TEENS.get(w, 0) or UNITS.get(w, 0) for w in words
            )
            if 1 <= value <= 31:
                rewrites.append(Rewrite(m.start("day"), m.end("day"), str(value)))
    return rewrites


def spoken_number_rewrites(text: str, taken: list[tuple[int, int]] | None = None) -> list[Rewrite]:
    """Every run of spoken numbers outside ``taken`` rewritten into digits (see the module docstring)."""
    rewrites: list[Rewrite] = []
    for run in _runs(text, taken or []):
        run = _join_tens_units(run)
        digits = _run_text(run)
        start, end = run[0][1].start, run[-1][1].end
        if digits and digits != text[start:end]:
            rewrites.append(Rewrite(start, end, digits))
    return rewrites


# ---- saying a surrogate the way the original was said --------------------------------------------------
_DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TENS_NAMES = {v: k for k, v in TENS.items()}
_TEEN_NAMES = {v: k for k, v in TEENS.items()}
_ORDINAL_NAMES = {v: k for k, v in ORDINALS.items()}
_JOINER_WORDS = {"-": ", ", ".": " dot ", "/": " slash "}


def say_digits(value: str) -> str:
    """``628-555-0187`` → "six two eight, five five five, zero one eight seven" (letters stay letters)."""
    parts: list[str] = []
    for char in value:
        if char.isdigit():
            parts.append(_DIGIT_NAMES[int(char)])
        elif char in _JOINER_WORDS:
            parts.append(_JOINER_WORDS[char].strip() and _JOINER_WORDS[char])
        elif char.isalpha():
            parts.append(char.upper())
    text = ""
    for part in parts:
        if part in _JOINER_WORDS.values():
            text = text.rstrip() + part
        else:
            text += ("" if not text or text.endswith(" ") else " ") + part
    return text.strip()


def say_number(value: int) -> str:
    """0-999 in words: 7 → "seven", 42 → "forty-two", 412 → "four hundred twelve"."""
    if value >= 100:
        rest = value % 100
        head = f"{_DIGIT_NAMES[value // 100]} hundred"
        return head if rest == 0 else f"{head} {say_number(rest)}"
    if value < 10:
        return _DIGIT_NAMES[value]
    if value < 20:
        return _TEEN_NAMES[value]
    tens, unit = divmod(value, 10)
    return _TENS_NAMES[tens * 10] + (f"-{_DIGIT_NAMES[unit]}" if unit else "")


def say_year(year: int) -> str:
    """1947 → "nineteen forty-seven", 2005 → "two thousand five", 1905 → "nineteen oh five"."""
    if 2000 <= year < 2010:
        return "two thousand" + (f" {_DIGIT_NAMES[year - 2000]}" if year > 2000 else "")
    head, tail = divmod(year, 100)
    if tail == 0:
        return f"{say_number(head)} hundred"
    return f"{say_number(head)} {'oh ' + _DIGIT_NAMES[tail] if tail < 10 else say_number(tail)}"


def say_ordinal(day: int) -> str:
    """3 → "third", 21 → "twenty-first"."""
    if day in _ORDINAL_NAMES:
        return _ORDINAL_NAMES[day]
    tens, unit = divmod(day, 10)
    return f"{_TENS_NAMES[tens * 10]}-{_ORDINAL_NAMES[unit]}"
