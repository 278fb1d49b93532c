"""MinHash signatures (datasketch) of many token sets at once, stored as a uint32 matrix."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from datasketch import MinHash

MINHASH_SEED = 1


def signatures(sets: Iterable[set[bytes]], num_perm: int) -> np.ndarray:
    """One row per set: datasketch's MinHash values (all below 2**32), as uint32."""
    rows = [m.hashvalues for m in MinHash.bulk(list(sets), num_perm=num_perm, seed=MINHASH_SEED)]
    if not rows:
        return np.zeros((0, num_perm), dtype=np.uint32)
    return np.vstack(rows).astype(np.uint32)


def estimated_jaccard(one: np.ndarray, many: np.ndarray) -> np.ndarray:
    """The share of equal MinHash values between ``one`` signature and each row of ``many``."""
    if many.shape[0] == 0:
        return np.zeros(0, dtype=np.float64)
    return (many == one[None, :]).mean(axis=1)
