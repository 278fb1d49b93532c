"""Speaking-rate model: when each turn of a text transcript would start and end in a recorded call.

A turn lasts ``words / wpm`` minutes at its speaker's rate (agent and customer rates differ), varied per
turn by a deterministic jitter. Turns are separated by a short pause, a longer one when the customer
looks something up (answering an agent's identity/information request) and a hold-length one after an
agent turn that announces a hold ("let me check", "one moment"). Now and then a turn interrupts: it
starts shortly before the previous turn ends. Interruptions are rarer for agents than customers and more
common when the caller's tone is heated. Everything is a pure function of the transcript id, the seed,
the turns and the parameters; there is no global random state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from transcript_foundry.text.phrase_match import has_any

HEATED_TONES = frozenset({"angry", "impatient", "frustrated"})
HOLD_PHRASES: tuple[str, ...] = (
    "let me check",
    "let me look",
    "let me pull",
    "let me see",
    "let me find",
    "one moment",
    "just a moment",
    "give me a moment",
    "give me a second",
    "bear with me",
    "please hold",
    "hold on",
)
LOOKUP_PROMPTS = frozenset({"verify_identity", "request_info"})
LOOKUP_ANSWERS = frozenset({"provide_info", "verify_identity", "answer_followup"})


def deterministic_unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts`` (SHA-256 based: stable across runs, platforms and versions)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def word_count(text: str) -> int:
    return len(text.split())


@dataclass(frozen=True)
class TimingParams:
    agent_wpm: float = 150.0
    customer_wpm: float = 160.0
    rate_jitter: float = 0.12  # each turn's rate is wpm * (1 ± rate_jitter)
    min_turn_ms: int = 700
    pause_ms: tuple[int, int] = (250, 900)
    lookup_pause_ms: tuple[int, int] = (1500, 4500)
    hold_pause_ms: tuple[int, int] = (3500, 9000)
    overlap_ms: tuple[int, int] = (300, 900)
    customer_interrupt_rate_heated: float = 0.08
    customer_interrupt_rate: float = 0.02
    agent_interrupt_rate: float = 0.01


@dataclass(frozen=True)
class TurnTiming:
    begin_ms: int
    end_ms: int
    interrupts: bool  # starts before the previous turn ends

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.begin_ms


def _between(bounds: tuple[int, int], unit: float) -> int:
    low, high = bounds
    return round(low + (high - low) * unit)


def _interrupt_rate(speaker: str, tone: str | None, params: TimingParams) -> float:
    if speaker == "AGENT":
        return params.agent_interrupt_rate
    return params.customer_interrupt_rate_heated if tone in HEATED_TONES else params.customer_interrupt_rate


def _pause(prev: Mapping[str, Any], turn: Mapping[str, Any], unit: float, params: TimingParams) -> int:
    if prev["speaker"] == "AGENT" and has_any(str(prev["text"]), HOLD_PHRASES):
        return _between(params.hold_pause_ms, unit)
    if (
        prev["speaker"] == "AGENT"
        and turn["speaker"] == "CUSTOMER"
        and prev.get("act") in LOOKUP_PROMPTS
        and turn.get("act") in LOOKUP_ANSWERS
    ):
        return _between(params.lookup_pause_ms, unit)
    return _between(params.pause_ms, unit)


def turn_timings(
    transcript_id: str,
    turns: Sequence[Mapping[str, Any]],
    tone: str | None,
    params: TimingParams | None = None,
    seed: int = 0,
) -> list[TurnTiming]:
    """Begin/end offsets (ms from the call's start) for each turn. The first turn starts at 0; begins are
    strictly increasing, and so are ends (an interrupting turn outlasts the turn it cuts into)."""
    params = params or TimingParams()
    timings: list[TurnTiming] = []
    for i, turn in enumerate(turns):
        speaker = str(turn["speaker"])
        wpm = params.agent_wpm if speaker == "AGENT" else params.customer_wpm
        rate = wpm * (1 + params.rate_jitter * (2 * deterministic_unit(seed, transcript_id, i, "rate") - 1))
        duration = max(params.min_turn_ms, round(word_count(str(turn["text"])) * 60_000 / rate))
        if not timings:
            timings.append(TurnTiming(0, duration, False))
            continue
        prev, prev_turn = timings[-1], turns[i - 1]
        overlap = _between(params.overlap_ms, deterministic_unit(seed, transcript_id, i, "overlap"))
        interrupts = (
            deterministic_unit(seed, transcript_id, i, "interrupt") < _interrupt_rate(speaker, tone, params)
            and prev_turn["speaker"] != speaker
            and not prev.interrupts  # no chains: at most two voices at once
            and prev.duration_ms >= 2 * overlap
            and duration > overlap
            and not (prev_turn["speaker"] == "AGENT" and has_any(str(prev_turn["text"]), HOLD_PHRASES))
        )
        if interrupts:
            begin = prev.end_ms - overlap
        else:
            begin = prev.end_ms + _pause(
                prev_turn, turn, deterministic_unit(seed, transcript_id, i, "pause"), params
            )
        timings.append(TurnTiming(begin, begin + duration, interrupts))
    return timings


@dataclass(frozen=True)
class Span:
    begin_ms: int
    end_ms: int

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.begin_ms


def overlaps(spans: Sequence[tuple[int, int]]) -> list[tuple[int, Span]]:
    """``(turn index, overlap)`` for each turn that starts before the talk so far has ended: the overlap
    runs from the turn's begin to the earlier of its end and the latest end before it."""
    found: list[tuple[int, Span]] = []
    latest_end: int | None = None
    for i, (begin, end) in enumerate(spans):
        if latest_end is not None and begin < latest_end:
            found.append((i, Span(begin, min(end, latest_end))))
        latest_end = end if latest_end is None else max(latest_end, end)
    return found


def silences(spans: Sequence[tuple[int, int]], total_ms: int) -> list[Span]:
    """Every stretch of [0, total_ms] in which no turn is being spoken (spans need not be sorted)."""
    gaps: list[Span] = []
    cursor = 0
    for begin, end in sorted(spans):
        if begin > cursor:
            gaps.append(Span(cursor, begin))
        cursor = max(cursor, end)
    if total_ms > cursor:
        gaps.append(Span(cursor, total_ms))
    return gaps


def talk_union_ms(spans: Sequence[tuple[int, int]]) -> int:
    """Milliseconds in which at least one person talks (overlapping speech counted once)."""
    total = 0
    cursor: int | None = None
    for begin, end in sorted(spans):
        start = begin if cursor is None else max(begin, cursor)
        if end > start:
            total += end - start
        cursor = end if cursor is None else max(cursor, end)
    return total
