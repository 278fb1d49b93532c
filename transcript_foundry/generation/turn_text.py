"""Cleaning and checking one generated turn before it joins a conversation."""

from __future__ import annotations

import re

from transcript_foundry.text.phrase_match import has_any, near_repeat, shared_run, words
from transcript_foundry.text.tone_lexicon import CLOSING_CUES, GREETING_CUES

MAX_TURN_WORDS = 90
_LABEL_LEAK = re.compile(r"\((?:Agent|Customer)\b|\b(?:Agent|Customer|Caller|Representative)\s*:|###", re.I)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_LETTER = re.compile(r"[A-Za-z]")


class DegenerateTurn(ValueError):
    """A generated turn that cannot be used; the message says why."""


def clean_turn(raw: str, *, truncated: bool, previous: list[str], act: str | None = None) -> str:
    """Return the usable text of one generated turn, or raise DegenerateTurn with the reason.

    ``truncated`` says the model hit its token limit mid-turn: the turn is cut back to its last complete
    sentence. ``previous`` are the conversation's earlier turn texts: a verbatim or near repeat (the
    quality gate's loop rule) is refused here, where re-sampling one turn is cheap. ``act`` is the beat's
    dialogue act: a ``greet`` turn must greet and a ``close`` turn must take leave.
    """
    text = raw.replace("\r", " ").split("\n", 1)[0].strip()
    leak = _LABEL_LEAK.search(text)
    if leak:
        text = text[: leak.start()].strip()
    text = text.strip(" \"'`*-").strip()
    if truncated:
        ends = list(_SENTENCE_END.finditer(text))
        if not ends:
            raise DegenerateTurn("ran past the token limit without finishing a sentence")
        text = text[: ends[-1].end()]
    if len(_LETTER.findall(text)) < 2:
        raise DegenerateTurn(f"no words in {raw.strip()[:40]!r}")
    if len(text.split()) > MAX_TURN_WORDS:
        raise DegenerateTurn(f"too long ({len(text.split())} words)")
    tokens = words(text)
    if any(tokens == words(p) for p in previous):
        raise DegenerateTurn("repeats an earlier turn word for word")
    if near_repeat(set(tokens), (set(words(p)) for p in previous)):
        raise DegenerateTurn("nearly repeats an earlier turn")
    if shared_run(tokens, (words(p) for p in previous)):
        raise DegenerateTurn("echoes eight or more words of an earlier turn")
    if len(tokens) >= 8 and len(set(tokens)) / len(tokens) < 0.4:
        raise DegenerateTurn("loops on the same words")
    if act == "greet" and not has_any(text, GREETING_CUES):
        raise DegenerateTurn("a greeting turn without a greeting")
    if act == "close" and not has_any(text, CLOSING_CUES):
        raise DegenerateTurn("a closing turn without a goodbye or thanks")
    return text
