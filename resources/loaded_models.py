"""llama.cpp models kept loaded in this process, shared by the Dagster runs it executes.

``transcripts generate`` runs every shard of a request as its own Dagster run in one process. Loading the
model again for each run, and evaluating the few-shot prefix again into a fresh KV cache, costs seconds per
shard. Models are therefore held here, one per (file, context size, threads), each with the lock that
serialises its calls (a llama.cpp context is single-sequence), and freed when the process exits or
``release_all()`` is called. A run executed in its own process (the Dagster daemon, ``dagster dev``)
loads the model once for that process, as before.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelKey:
    path: str
    n_ctx: int
    n_threads: int


@dataclass
class LoadedModel:
    llm: Any  # llama_cpp.Llama
    lock: threading.Lock


class LoadedModels:
    def __init__(self) -> None:
        self._models: dict[ModelKey, LoadedModel] = {}
        self._guard = threading.Lock()

    def get(self, key: ModelKey, load: Callable[[], Any]) -> LoadedModel:
        """The loaded model for ``key``, loading it with ``load()`` the first time."""
        with self._guard:
            model = self._models.get(key)
            if model is None:
                model = self._models[key] = LoadedModel(llm=load(), lock=threading.Lock())
            return model

    def loaded(self) -> list[ModelKey]:
        with self._guard:
            return list(self._models)

    def release_all(self) -> None:
        with self._guard:
            models, self._models = self._models, {}
        for model in models.values():
            with model.lock:
                model.llm.close()


PROCESS_MODELS = LoadedModels()
atexit.register(PROCESS_MODELS.release_all)
