"""The words of a call as the lexical rules see them: normalised tokens, word n-gram shingles, content words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from transcript_assets.content_hash import normalise

# Function words left out of the content-word set (the flow rule's lexical guard compares what was said,
# not how the sentence was glued together).
_STOPWORDS = """a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing don down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just let me more most my myself no nor
not now of off on once only or other our ours ourselves out over own please s same she should so some such t than
that the their theirs them themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself yourselves okay ok yes yeah
oh um uh well sure right thank thanks hi hello re ll ve d m"""
STOPWORDS = frozenset(_STOPWORDS.split())  # normalised text has no apostrophes: "i'd" is "i d"


def call_tokens(turns: Iterable[Mapping[str, Any]]) -> list[str]:
    """Normalised words of every turn in order, each turn led by its speaker as a token."""
    tokens: list[str] = []
    for turn in turns:
        tokens.append(f"<{str(turn['speaker']).lower()}>")
        tokens.extend(normalise(str(turn["text"])).split())
    return tokens


def word_shingles(tokens: list[str], size: int) -> set[bytes]:
    """Word n-grams (a call shorter than ``size`` words is one shingle)."""
    if len(tokens) <= size:
        return {" ".join(tokens).encode("utf-8")}
    return {" ".join(tokens[i : i + size]).encode("utf-8") for i in range(len(tokens) - size + 1)}


def content_words(turns: Iterable[Mapping[str, Any]]) -> set[bytes]:
    """The set of words that carry content (stopwords, speaker tokens and one-letter words left out)."""
    words = {
        w.encode("utf-8")
        for w in call_tokens(turns)
        if len(w) > 1 and w not in STOPWORDS and not w.startswith("<")
    }
    return words or {b"<empty>"}
