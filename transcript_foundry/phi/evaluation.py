"""Measuring a scrubber on transcripts with planted, labelled identifiers.

A labelled set is output-contract JSON Lines whose turn texts mark each planted identifier inline as
``{{KIND:value}}`` ("my member ID is {{MEMBER_ID:BPH448129}}"). ``load_planted`` strips the marks and
returns each record with its planted spans. ``score`` compares the spans a scrubber replaced with them:

* recall: planted identifiers whose characters (spaces aside) were all replaced;
* retention: ordinary words (every word outside a planted span) left untouched.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARK = re.compile(r"\{\{([A-Z_]+):(.*?)\}\}")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")


@dataclass(frozen=True)
class PlantedSpan:
    turn: int
    start: int
    end: int
    kind: str


def strip_markup(record: dict[str, Any]) -> tuple[dict[str, Any], list[PlantedSpan]]:
    clean = copy.deepcopy(record)
    planted: list[PlantedSpan] = []
    for index, turn in enumerate(clean["turns"]):
        text, out, cursor = turn["text"], "", 0
        for m in MARK.finditer(text):
            out += text[cursor : m.start()]
            planted.append(PlantedSpan(index, len(out), len(out) + len(m.group(2)), m.group(1)))
            out += m.group(2)
            cursor = m.end()
        turn["text"] = out + text[cursor:]
    return clean, planted


def load_planted(path: Path) -> list[tuple[dict[str, Any], list[PlantedSpan]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [strip_markup(json.loads(line)) for line in lines if line.strip()]


@dataclass
class Score:
    planted: int = 0
    caught: int = 0
    words: int = 0
    kept: int = 0
    planted_by_kind: Counter[str] = field(default_factory=Counter)
    caught_by_kind: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    lost_words: Counter[str] = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.caught / self.planted if self.planted else 1.0

    @property
    def retention(self) -> float:
        return self.kept / self.words if self.words else 1.0

    def add(self, other: Score) -> None:
        self.planted += other.planted
        self.caught += other.caught
        self.words += other.words
        self.kept += other.kept
        self.planted_by_kind.update(other.planted_by_kind)
        self.caught_by_kind.update(other.caught_by_kind)
        self.misses += other.misses
        self.lost_words.update(other.lost_words)


def _covered(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= position < e for s, e in spans)


def score_record(
    record: dict[str, Any], planted: list[PlantedSpan], replaced: list[list[tuple[int, int]]]
) -> Score:
    """``replaced[turn]``: the original-text spans the scrubber replaced in that turn."""
    result = Score()
    for span in planted:
        text = record["turns"][span.turn]["text"]
        chars = [i for i in range(span.start, span.end) if not text[i].isspace()]
        result.planted += 1
        result.planted_by_kind[span.kind] += 1
        if all(_covered(i, replaced[span.turn]) for i in chars):
            result.caught += 1
            result.caught_by_kind[span.kind] += 1
        else:
            result.misses.append(
                f"{record.get('id')} turn {span.turn}: {span.kind} {text[span.start : span.end]!r}"
            )
    for index, turn in enumerate(record["turns"]):
        inside = [(p.start, p.end) for p in planted if p.turn == index]
        for m in _WORD.finditer(turn["text"]):
            if any(s < m.end() and m.start() < e for s, e in inside):
                continue
            result.words += 1
            if any(s < m.end() and m.start() < e for s, e in replaced[index]):
                result.lost_words[m.group(0)] += 1
            else:
                result.kept += 1
    return result
