"""The words of a call as the lexical rules see them: normalised tokens, word n-gram shingles, content words.

Shingles and content words are 32-bit hashes (CRC-32 of each word, n-grams combined arithmetically in
NumPy), the input of ``minhash_signatures``; ``word_shingles`` gives the same n-grams as text, for
measuring exact Jaccard similarities (bench/dedup_thresholds.py).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from transcript_foundry.contract.content_hash import content_hash

# Function words left out of the content-word set (the flow rule's lexical guard compares what was said,
# not how the sentence was glued together). Normalised text has no apostrophes: "i'd" is "i d".
_STOPWORDS = """a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing don down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just let me more most my myself no nor
not now of off on once only or other our ours ourselves out over own please s same she should so some such t than
that the their theirs them themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself yourselves okay ok yes yeah
oh um uh well sure right thank thanks hi hello re ll ve d m"""
STOPWORDS = frozenset(_STOPWORDS.split())
SPEAKER_TOKENS = frozenset({"spk_agent", "spk_customer"})  # a turn's first token names its speaker
_NGRAM_MULTIPLIER = np.uint64(0x100000001B3)
_WORD = re.compile(r"\w+")


def call_tokens(turns: Iterable[Mapping[str, Any]]) -> list[str]:
    """Normalised words of every turn in order, each turn led by its speaker token.

    The same words as ``normalise(text).split()`` (NFKC, lower case, runs of word characters), in one regex
    pass over the whole call.
    """
    text = "\n".join(f"spk_{str(t['speaker']).lower()} {t['text']}" for t in turns)
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def word_shingles(tokens: list[str], size: int) -> set[bytes]:
    """Word n-grams as text (a call shorter than ``size`` words is one shingle)."""
    if len(tokens) <= size:
        return {" ".join(tokens).encode("utf-8")}
    return {" ".join(tokens[i : i + size]).encode("utf-8") for i in range(len(tokens) - size + 1)}


@lru_cache(maxsize=1 << 20)
def _word_hash(word: str) -> int:
    return zlib.crc32(word.encode("utf-8"))


def token_hashes(tokens: list[str]) -> np.ndarray:
    """CRC-32 of each token (memoised: a corpus repeats its vocabulary), as uint64."""
    return np.fromiter(map(_word_hash, tokens), dtype=np.uint64, count=len(tokens))


def tokens_content_hash(turns: Sequence[Mapping[str, Any]], tokens: list[str]) -> str:
    """``content_hash(turns)`` from the call's tokens, without normalising each turn again.

    The tokens between two speaker tokens are exactly the turn's normalised words; when a turn's own text
    holds a speaker token the split is ambiguous and the turns are hashed one by one.
    """
    starts = [i for i, t in enumerate(tokens) if t in SPEAKER_TOKENS]
    if len(starts) != len(turns):
        return content_hash(turns)
    bounds = [*starts[1:], len(tokens)]
    canonical = "\n".join(
        f"{turn['speaker']}|{' '.join(tokens[start + 1 : end])}"
        for turn, start, end in zip(turns, starts, bounds, strict=True)
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def shingle_hashes(tokens: list[str], size: int) -> np.ndarray:
    """uint32 hashes of the word n-grams of ``tokens`` (a shorter call is one shingle)."""
    words = token_hashes(tokens)
    if len(words) <= size:
        size = max(1, len(words))
    count = len(words) - size + 1
    combined = words[:count].copy()
    with np.errstate(over="ignore"):
        for k in range(1, size):
            combined = combined * _NGRAM_MULTIPLIER + words[k : k + count]
    return ((combined ^ (combined >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def content_words(tokens: list[str]) -> set[str]:
    """Words that carry content: stopwords, speaker tokens and one-letter words left out."""
    words = {w for w in tokens if len(w) > 1 and w not in STOPWORDS and w not in SPEAKER_TOKENS}
    return words or {"<empty>"}


def content_word_hashes(tokens: list[str]) -> np.ndarray:
    return token_hashes(sorted(content_words(tokens))).astype(np.uint32)
