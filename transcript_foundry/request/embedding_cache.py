"""Embeddings of the packs' anchor texts, kept on disk so a request encodes only its own few phrases.

One ``.npz`` file per model (named by a fingerprint of its weights file) maps texts to vectors. A text
not in the file is encoded and the file rewritten (atomically: a temporary file, then a rename). The
request's own words are never cached: ``encode_cached`` is for pack texts only. The folder is
``TRANSCRIPTS_EMBEDDING_CACHE``, else ``$XDG_CACHE_HOME/transcript-foundry/request-embeddings``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

CACHE_ENV = "TRANSCRIPTS_EMBEDDING_CACHE"

Encode = Callable[[Sequence[str]], np.ndarray]


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "transcript-foundry"
    return Path(os.environ.get(CACHE_ENV, default / "request-embeddings"))


def model_fingerprint(model_dir: Path) -> str:
    """Path, size and modification time of the weights: a changed model gets a new cache file."""
    found = [model_dir / n for n in ("model.safetensors", "pytorch_model.bin") if (model_dir / n).is_file()]
    weights = found[0] if found else model_dir
    stat = weights.stat()
    key = f"{weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
    except (OSError, ValueError, KeyError):
        return {}  # missing or unreadable: rebuilt below


def _write(path: Path, table: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    texts = list(table)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, texts=np.array(texts, dtype=str), vectors=np.stack([table[t] for t in texts]))
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)  # a read-only cache only costs time


def encode_cached(texts: Sequence[str], fingerprint: str, encode: Callable[[], Encode]) -> np.ndarray:
    """Vectors of ``texts`` (one row each); ``encode()`` gives the encoder, and is called only on a miss."""
    path = cache_dir() / f"{fingerprint}.npz"
    table = _read(path)
    missing = [t for t in dict.fromkeys(texts) if t not in table]
    if missing:
        for text, vector in zip(missing, encode()(missing), strict=True):
            table[text] = vector
        _write(path, table)
    return np.stack([table[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)
