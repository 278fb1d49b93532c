"""The words a request says that the rules did not read: the phrases the semantic layer looks at.

The parser blanks out ("masks") every phrase it reads, keeping positions. What is left is split into
phrases at punctuation, at a masked gap, and at words that join clauses ("about", "with", "who", "and");
each phrase loses the stop and filler words at its ends ("customers", "the", "calling"). "3 thousand ISP
outage calls, customers fed up" leaves one phrase, "ISP outage".
"""

from __future__ import annotations

import re

from transcript_foundry.request.word_tables import FILLER_WORDS, STOP_WORDS, phrases

# Words that start a new clause: the phrases on either side are about different things.
BREAK_WORDS = frozenset(
    phrases(
        "about, with, from, for, who, whose, that, which, where, while, regarding, concerning, involving, "
        "and, or, but, by, because, after, before, since, when, whom, can't, cannot, won't, doesn't, don't, "
        "didn't, isn't, aren't, wasn't"
    )
)
# Words that carry no meaning at the ends of a phrase.
EDGE_WORDS = (
    STOP_WORDS
    | FILLER_WORDS
    | frozenset(
        phrases(
            "they, them, their, there, it, its, this, that, was, were, been, being, has, have, had, do, does, "
            "did, very, really, just, so, too, also, like, around, asking, ask, asks, calls, call, called, "
            "want, wants, wanting, need, needs, each, per, all, lots, lot, bunch, batch, set, total, some"
        )
    )
)

_TOKEN = re.compile(r"[a-z0-9][a-z0-9'.-]*[a-z0-9]|[a-z0-9]|[^\sa-z0-9]")


def _content(word: str) -> bool:
    return word not in EDGE_WORDS and bool(re.search(r"[a-z]{2}", word))


def leftover_phrases(masked: str, cased: str | None = None) -> list[str]:
    """Phrases of ``masked`` (lower case, read phrases blanked) worth matching by meaning, in text order,
    spelt as in ``cased`` (the same text before lower-casing, same length) when given."""
    source = cased if cased is not None and len(cased) == len(masked) else masked
    chunks: list[list[re.Match[str]]] = [[]]
    last_end: int | None = None
    for token in _TOKEN.finditer(masked):
        word = token.group()
        gap = last_end is not None and token.start() - last_end > 1
        if gap or not re.match(r"[a-z0-9]", word) or word in BREAK_WORDS:
            chunks.append([])
        if re.match(r"[a-z0-9]", word) and word not in BREAK_WORDS:
            chunks[-1].append(token)
        last_end = token.end()
    phrases: list[str] = []
    for chunk in chunks:
        while chunk and not _content(chunk[0].group()):
            chunk = chunk[1:]
        while chunk and not _content(chunk[-1].group()):
            chunk = chunk[:-1]
        if chunk and any(_content(t.group()) and not t.group()[0].isdigit() for t in chunk):
            phrases.append(" ".join(source[chunk[0].start() : chunk[-1].end()].split()))
    return list(dict.fromkeys(phrases))
