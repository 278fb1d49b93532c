"""MinHash LSH banding on NumPy arrays: band keys of signatures and a sorted lookup of candidate pairs.

The band count ``b`` and rows per band ``r`` come from datasketch's own optimiser for the threshold
(``datasketch.lsh._optimal_param``, as ``MinHashLSH`` uses). The buckets are kept as one sorted uint64 array
per band rather than datasketch's in-memory dicts: the index then persists as plain NumPy files, loads
without re-inserting the library, and a batch of new signatures finds its candidates with
``np.searchsorted`` in O(new x bands x log library).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from datasketch.lsh import _optimal_param

_MIX_SEED = 20260105
FALSE_POSITIVE_WEIGHT = 0.3  # candidates are verified on the signatures, so a false positive costs little
FALSE_NEGATIVE_WEIGHT = 0.7
RECALL_MARGIN = 0.1
"""Bands are laid out for ``threshold - RECALL_MARGIN``: datasketch's optimum puts the S-curve's middle near
the threshold, where a pair just above it is found only ~80 % of the time; shifted down, more pairs near the
threshold become candidates (0.4 → 42 bands x 3 rows: a pair at J = 0.5 is a candidate 99.6 % of the time,
one at J = 0.04 0.3 %), and the signatures decide."""


@dataclass(frozen=True)
class Banding:
    bands: int
    rows: int

    @classmethod
    def for_threshold(cls, threshold: float, num_perm: int) -> Banding:
        layout = max(0.1, threshold - RECALL_MARGIN)
        bands, rows = _optimal_param(layout, num_perm, FALSE_POSITIVE_WEIGHT, FALSE_NEGATIVE_WEIGHT)
        return cls(bands=int(bands), rows=int(rows))

    def keys(self, signatures: np.ndarray) -> np.ndarray:
        """(n, bands) uint64: one hash per band of ``rows`` consecutive MinHash values."""
        n = signatures.shape[0]
        used = signatures[:, : self.bands * self.rows].astype(np.uint64).reshape(n, self.bands, self.rows)
        mult = np.random.default_rng(_MIX_SEED).integers(1, 2**63, size=self.rows, dtype=np.uint64) | 1
        with np.errstate(over="ignore"):
            return (used * mult[None, None, :]).sum(axis=2, dtype=np.uint64) ^ np.arange(
                self.bands, dtype=np.uint64
            )


class BandLookup:
    """Sorted band keys of a set of signatures, for finding which rows share a band with a query."""

    def __init__(self, keys: np.ndarray):
        self.size = keys.shape[0]
        self._order = np.argsort(keys, axis=0, kind="stable")
        self._sorted = np.take_along_axis(keys, self._order, axis=0)

    def candidate_pairs(self, query_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query rows, indexed rows) sharing at least one band, each pair once."""
        if self.size == 0 or query_keys.shape[0] == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        queries, rows = [], []
        for band in range(query_keys.shape[1]):
            column = self._sorted[:, band]
            lo = np.searchsorted(column, query_keys[:, band], side="left")
            hi = np.searchsorted(column, query_keys[:, band], side="right")
            counts = hi - lo
            total = int(counts.sum())
            if not total:
                continue
            offsets = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(total)
            queries.append(np.repeat(np.arange(query_keys.shape[0]), counts))
            rows.append(self._order[offsets, band])
        if not queries:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        pair_ids = np.unique(np.concatenate(queries).astype(np.int64) * self.size + np.concatenate(rows))
        return pair_ids // self.size, pair_ids % self.size
