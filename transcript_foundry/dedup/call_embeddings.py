"""One normalised embedding per call: the mean of its chunk embeddings, re-normalised.

MiniLM reads at most 256 word pieces, fewer than a whole call holds, so a call is cut at turn boundaries
into chunks of at most ``CHUNK_WORDS`` words; each chunk is embedded and the word-weighted mean of the
chunk vectors, normalised to unit length, stands for the call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Embedder = Callable[[Sequence[Sequence[Mapping[str, Any]]]], np.ndarray]
"""Turns of many calls → (calls, dim) unit-length float32 embeddings."""

CHUNK_WORDS = 150


def call_chunks(turns: Sequence[Mapping[str, Any]]) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    words = 0
    for turn in turns:
        line = f"{str(turn['speaker']).title()}: {turn['text']}"
        size = len(line.split())
        if current and words + size > CHUNK_WORDS:
            chunks.append("\n".join(current))
            current, words = [], 0
        current.append(line)
        words += size
    if current:
        chunks.append("\n".join(current))
    return chunks


def embed_calls(
    model: SentenceTransformer, calls: Sequence[Sequence[Mapping[str, Any]]], batch_size: int = 32
) -> np.ndarray:
    """(len(calls), dim) float32, unit length rows."""
    if not calls:
        return np.zeros((0, 0), dtype=np.float32)
    chunks, owner, weight = [], [], []
    for i, turns in enumerate(calls):
        for chunk in call_chunks(turns):
            chunks.append(chunk)
            owner.append(i)
            weight.append(len(chunk.split()))
    if not chunks:  # calls without turns
        return np.zeros((len(calls), 0), dtype=np.float32)
    vectors = model.encode(
        chunks,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    ).astype(np.float32)
    sums = np.zeros((len(calls), vectors.shape[1]), dtype=np.float32)
    np.add.at(sums, np.asarray(owner), vectors * np.asarray(weight, dtype=np.float32)[:, None])
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return sums / np.maximum(norms, 1e-12)


def call_embedder(model_path: str | None, batch_size: int = 32) -> tuple[Embedder, str]:
    """An embedder that loads the model on first use (once per process), and the model's name for the index."""
    from transcript_foundry.dedup.embedding_model import load_model, resolve_model_dir

    folder = resolve_model_dir(model_path)

    def embed(calls: Sequence[Sequence[Mapping[str, Any]]]) -> np.ndarray:
        return embed_calls(load_model(folder), calls, batch_size)

    return embed, f"{folder.parent.name}/{folder.name}"
