"""Exact top-1 cosine search of a batch of normalised vectors against a stored matrix, in blocks.

Cost O(batch x library) per batch: a new batch is compared with the stored matrix (and with itself), never
the whole library with itself again. Blocks bound the memory of the similarity matrix.
"""

from __future__ import annotations

import numpy as np

BLOCK_ROWS = 16_384


def top1(queries: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the index of its most similar matrix row and that cosine (-1 when empty)."""
    best_index = np.full(queries.shape[0], -1, dtype=np.int64)
    best_sim = np.full(queries.shape[0], -1.0, dtype=np.float32)
    for start in range(0, matrix.shape[0], BLOCK_ROWS):
        block = matrix[start : start + BLOCK_ROWS]
        sims = queries @ block.T
        arg = sims.argmax(axis=1)
        val = sims[np.arange(sims.shape[0]), arg]
        better = val > best_sim
        best_sim[better] = val[better]
        best_index[better] = arg[better] + start
    return best_index, best_sim
