"""A text with some spans rewritten (spoken numbers → digits, "dot"/"at" → "."/"@"), mapped back to the original.

Detection runs on the normalised text; replacement happens in the original. ``to_original`` maps a span of
the normalised text to the original characters it came from: positions inside an unchanged stretch shift
linearly, and a span touching a rewritten stretch grows to cover that whole stretch of the original.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True)
class Rewrite:
    """Replace ``original[start:end]`` by ``text`` for detection."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Segment:
    norm_start: int
    norm_end: int
    orig_start: int
    orig_end: int
    rewritten: bool


def merge_rewrites(*groups: list[Rewrite]) -> list[Rewrite]:
    """All rewrites in text order; one overlapping an earlier-accepted rewrite (earlier group first) is dropped."""
    accepted: list[Rewrite] = []
    for group in groups:
        for rewrite in group:
            if all(rewrite.end <= r.start or rewrite.start >= r.end for r in accepted):
                accepted.append(rewrite)
    return sorted(accepted, key=lambda r: r.start)


class NormalisedText:
    def __init__(self, original: str, rewrites: list[Rewrite]) -> None:
        self.original = original
        parts: list[str] = []
        segments: list[_Segment] = []
        cursor = 0
        norm = 0
        for rewrite in sorted(rewrites, key=lambda r: r.start):
            if rewrite.start < cursor:
                raise ValueError(f"overlapping rewrites at {rewrite.start}")
            if rewrite.start > cursor:
                length = rewrite.start - cursor
                segments.append(_Segment(norm, norm + length, cursor, rewrite.start, False))
                parts.append(original[cursor : rewrite.start])
                norm += length
            segments.append(_Segment(norm, norm + len(rewrite.text), rewrite.start, rewrite.end, True))
            parts.append(rewrite.text)
            norm += len(rewrite.text)
            cursor = rewrite.end
        if cursor < len(original) or not segments:
            segments.append(_Segment(norm, norm + len(original) - cursor, cursor, len(original), False))
            parts.append(original[cursor:])
        self.text = "".join(parts)
        self._segments = segments
        self._starts = [s.norm_start for s in segments]

    def _segment_at(self, position: int) -> _Segment:
        index = max(0, bisect_right(self._starts, position) - 1)
        while index > 0 and self._segments[index].norm_start == self._segments[index].norm_end:
            index -= 1
        return self._segments[index]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The original span that the normalised ``text[start:end]`` came from (end exclusive)."""
        first = self._segment_at(start)
        last = self._segment_at(max(start, end - 1))
        orig_start = first.orig_start if first.rewritten else first.orig_start + (start - first.norm_start)
        orig_end = last.orig_end if last.rewritten else last.orig_start + (end - last.norm_start)
        return orig_start, max(orig_start, orig_end)

    def touches_rewrite(self, start: int, end: int) -> bool:
        """Whether any part of the normalised span came from a rewritten (spoken) stretch."""
        return any(s.rewritten and s.norm_start < end and start < s.norm_end for s in self._segments)
