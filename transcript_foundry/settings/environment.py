"""Where the project keeps its files and state, read from the environment with embedded defaults.

Everything lives under one project-local home folder (``TRANSCRIPTS_HOME``, default ``./.transcripts``):
the SQLite state database, the Dagster instance (``dagster_home``), the Parquet transcript store and the
library exports. The assembled embedded model is cached per user, so every checkout shares one copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "TRANSCRIPTS_HOME"
STATE_URL_ENV = "TRANSCRIPTS_STATE_URL"
MODEL_PATH_ENV = "TRANSCRIPTS_MODEL_PATH"
MODEL_CACHE_ENV = "TRANSCRIPTS_MODEL_CACHE"
NODES_FILE_ENV = "TRANSCRIPTS_NODES_FILE"
OPENAI_BASE_URL_ENV = "TRANSCRIPTS_OPENAI_BASE_URL"
OPENAI_MODEL_ENV = "TRANSCRIPTS_OPENAI_MODEL"
THREADS_ENV = "TRANSCRIPTS_THREADS"
SEQUENCES_ENV = "TRANSCRIPTS_SEQUENCES"


@dataclass(frozen=True)
class ProjectPaths:
    home: Path

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    @property
    def store_dir(self) -> Path:
        return self.home / "store"

    @property
    def exports_dir(self) -> Path:
        return self.home / "exports"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def state_url(self) -> str:
        return os.environ.get(STATE_URL_ENV) or f"sqlite:///{(self.home / 'state.db').resolve()}"


def project_paths() -> ProjectPaths:
    return ProjectPaths(home=Path(os.environ.get(HOME_ENV, ".transcripts")).resolve())


def model_cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "transcript-foundry" / "models"
    return Path(os.environ.get(MODEL_CACHE_ENV, default))


def _positive_int_env(name: str, unit: str, example: int) -> int | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} must be a whole number of {unit}, e.g. {example}") from None
    if number < 1:
        raise ValueError(f"{name} must be at least 1, got {number}")
    return number


def default_threads() -> int:
    return _positive_int_env(THREADS_ENV, "CPU threads", 4) or max(1, os.cpu_count() or 1)


def local_sequences() -> int | None:
    """Sequences the in-process llama.cpp node decodes together (None: the node's default, 4)."""
    return _positive_int_env(SEQUENCES_ENV, "sequences", 4)
