"""MinHash signatures of many calls at once: datasketch's ``affine32`` scheme, vectorised across calls.

Each call is a set of 32-bit shingle hashes (``transcript_words``). The signature is exactly what
``datasketch.MinHash(num_perm, seed=1, scheme="affine32")`` computes for that set (the MurmurHash3
finaliser, then datasketch's affine permutations ``a * h + b mod 2**32``, then the minimum per permutation;
tests/transcript_foundry/dedup/test_dedup_index.py checks it value for value), but for thousands of calls in one NumPy pass instead
of one ``MinHash`` object per call: datasketch's per-object loop is what made 100k calls take minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from datasketch import MinHash
from datasketch.minhash import _fmix

MINHASH_SEED = 1
SCHEME = "affine32"
_CHUNK_HASHES = 32_768  # shingle hashes permuted per NumPy pass (bounds the (hashes x num_perm) matrix)


@lru_cache(maxsize=4)
def permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's (a, b) permutation parameters for ``num_perm`` and the seed, as uint32 columns."""
    a, b = MinHash(num_perm=num_perm, seed=MINHASH_SEED, scheme=SCHEME).permutations
    return np.asarray(a, dtype=np.uint32)[:, None], np.asarray(b, dtype=np.uint32)[:, None]


def signatures(hash_sets: Sequence[np.ndarray], num_perm: int) -> np.ndarray:
    """(len(hash_sets), num_perm) uint32: one MinHash signature per non-empty uint32 hash set."""
    a, b = permutations(num_perm)
    out = np.empty((len(hash_sets), num_perm), dtype=np.uint32)
    start = 0
    while start < len(hash_sets):
        stop, total = start, 0
        while stop < len(hash_sets) and (total == 0 or total + len(hash_sets[stop]) <= _CHUNK_HASHES):
            total += len(hash_sets[stop])
            stop += 1
        chunk = hash_sets[start:stop]
        lengths = np.fromiter((len(h) for h in chunk), dtype=np.int64, count=len(chunk))
        if (lengths == 0).any():
            raise ValueError("every call needs at least one shingle to have a MinHash signature")
        mixed = _fmix(np.concatenate(chunk).astype(np.uint32), 32)
        permuted = a * mixed[None, :] + b  # (num_perm, hashes); uint32 wraps: mod 2**32, as datasketch does
        out[start:stop] = np.minimum.reduceat(permuted, np.cumsum(lengths) - lengths, axis=1).T
        start = stop
    return out
