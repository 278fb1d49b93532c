"""Broken copies of coherent calls: what the discriminator must rank below the original.

Five kinds, each a failure generated calls really show (issue 14):

- ``role_swap``: every turn's speaker label swapped (the caller greets for the company);
- ``shuffle``: the middle turns reordered, each speaker's turns among that speaker's slots, so speakers
  still alternate and only the order is wrong;
- ``splice``: the second half replaced by another call's second half;
- ``foreign_agent``: every agent turn taken, in order, from another call;
- ``entity_contradiction``: a stated identifier, amount or date changed in a later mention (where the
  call states none twice, a read-back of a changed value is added to a later agent turn).

All are deterministic given the ``random.Random`` passed in. A kind that cannot apply to a call (too
short, nothing to contradict) returns None.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.entities import Mention, call_mentions

CORRUPTIONS: tuple[str, ...] = ("role_swap", "shuffle", "splice", "foreign_agent", "entity_contradiction")
_SWAP = {"AGENT": "CUSTOMER", "CUSTOMER": "AGENT"}
_READBACK = (
    "Just to confirm, I have {value} on file.",
    "So that's {value}, correct?",
    "I'm noting {value} here.",
    "And I have {value} for that.",
)


def role_swap(view: CallView) -> CallView:
    return view.with_turns(tuple((_SWAP[s], t) for s, t in view.turns))


def shuffle(view: CallView, rng: random.Random) -> CallView | None:
    """The turns between the first two and the last two reordered within each speaker's slots."""
    n = len(view.turns)
    middle = list(range(2, n - 2))
    if len(middle) < 4:
        return None
    turns = list(view.turns)
    for speaker in ("AGENT", "CUSTOMER"):
        slots = [i for i in middle if turns[i][0] == speaker]
        if len(slots) < 2:
            continue
        order = slots[:]
        for _ in range(10):
            rng.shuffle(order)
            if order != slots:
                break
        originals = [view.turns[i] for i in order]
        for slot, turn in zip(slots, originals, strict=True):
            turns[slot] = turn
    out = tuple(turns)
    return None if out == view.turns else view.with_turns(out)


def splice(view: CallView, other: CallView) -> CallView | None:
    """This call's first half, then ``other``'s second half (from a turn of the speaker that comes next)."""
    k = len(view.turns) // 2
    if k < 2 or len(other.turns) < 4:
        return None
    nxt = _SWAP[view.turns[k - 1][0]]
    starts = [j for j in range(len(other.turns) // 2, len(other.turns) - 1) if other.turns[j][0] == nxt]
    if not starts:
        return None
    return view.with_turns(view.turns[:k] + other.turns[starts[0] :])


def foreign_agent(view: CallView, other: CallView) -> CallView | None:
    """Every agent turn replaced, in order, by ``other``'s agent turns (the call stops where they run out)."""
    theirs = [t for s, t in other.turns if s == "AGENT"]
    out: list[tuple[str, str]] = []
    used = 0
    for speaker, text in view.turns:
        if speaker == "AGENT":
            if used == len(theirs):
                break
            out.append(("AGENT", theirs[used]))
            used += 1
        else:
            out.append((speaker, text))
    if used < 2 or len(out) < 4:
        return None
    return view.with_turns(tuple(out))


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _mutate_digits(text: str, rng: random.Random) -> str:
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    # Prefer the later digits: the leading ones are often a shared prefix (a year, an area code).
    i = rng.choice(positions[len(positions) // 3 :] or positions)
    choices = [d for d in "0123456789" if d != text[i]]
    return text[:i] + rng.choice(choices) + text[i + 1 :]


def mutate_value(mention: Mention, rng: random.Random) -> str:
    """``mention.text`` with one day, year or digit changed, in the same written form."""
    if mention.kind == "date":
        year, _month, day = mention.value.split("-")
        m = re.search(r"\b([0-3]?\d)(st|nd|rd|th)?\b", mention.text)
        if year != "????" and rng.random() < 0.4:
            new_year = str(int(year) + rng.choice([-7, -4, -3, -2, 2, 3, 5, 9]))
            return mention.text.replace(year, new_year, 1)
        if m and not mention.text[: m.start()].strip().isdigit():
            new_day = rng.choice([d for d in range(1, 29) if d != int(day)])
            repl = _ordinal(new_day) if m.group(2) else str(new_day)
            return mention.text[: m.start()] + repl + mention.text[m.end() :]
        if year != "????":
            return mention.text.replace(year, str(int(year) + 3), 1)
        return _mutate_digits(mention.text, rng)
    return _mutate_digits(mention.text, rng)


def _checkability(m: Mention) -> int:
    """Identifiers and full dates first, then amounts of three or more digits; a two-digit amount changed
    ("$50 copay" then "$30 copay") reads like a second amount to any rule, so it is the last resort."""
    if m.kind != "amount":
        return 2
    return 1 if len(m.value.replace(".00", "").replace(".", "")) >= 3 else 0


def _most_checkable(mentions: list[Mention]) -> list[Mention]:
    best = max(_checkability(m) for m in mentions)
    return [m for m in mentions if _checkability(m) == best]


def entity_contradiction(view: CallView, rng: random.Random) -> CallView | None:
    """A later mention of a stated value changed; else a changed read-back added to a later agent turn."""
    mentions = [m for m in call_mentions(view.turns) if m.kind != "date" or not m.value.startswith("????")]
    if not mentions:
        return None
    repeats = [
        m
        for m in mentions
        if any(o.value == m.value and o.turn < m.turn and o.kind == m.kind for o in mentions)
    ]
    turns = list(view.turns)
    if repeats:
        target = rng.choice(_most_checkable(repeats))
        speaker, text = turns[target.turn]
        turns[target.turn] = (speaker, text[: target.start] + mutate_value(target, rng) + text[target.end :])
        return view.with_turns(tuple(turns))
    source = rng.choice(_most_checkable(mentions))
    later = [i for i in range(source.turn + 2, len(turns)) if turns[i][0] == "AGENT"]
    if not later:
        return None
    i = rng.choice(later[:3])
    sentence = rng.choice(_READBACK).format(value=mutate_value(source, rng))
    turns[i] = (turns[i][0], f"{sentence} {turns[i][1]}")
    return view.with_turns(tuple(turns))


def corrupt(kind: str, view: CallView, others: Sequence[CallView], rng: random.Random) -> CallView | None:
    """One corrupted copy of ``view``; ``others`` supply the foreign turns (never ``view`` itself)."""
    if kind == "role_swap":
        return role_swap(view)
    if kind == "shuffle":
        return shuffle(view, rng)
    if kind in ("splice", "foreign_agent"):
        pool = [o for o in others if o.id != view.id and o.turns != view.turns]
        if not pool:
            return None
        other = rng.choice(pool)
        return splice(view, other) if kind == "splice" else foreign_agent(view, other)
    if kind == "entity_contradiction":
        return entity_contradiction(view, rng)
    raise ValueError(f"unknown corruption {kind!r}; use one of {', '.join(CORRUPTIONS)}")
