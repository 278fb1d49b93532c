"""llama.cpp models kept loaded in this process, shared by the Dagster runs it executes.

``transcripts generate`` runs every shard of a request as its own Dagster run in one process. Loading the
model again for each run, and evaluating the few-shot prefix again into a fresh KV cache, costs seconds per
shard. Models are therefore held here, one per (file, context size, threads), each with the lock that
serialises calls on its own context (single-sequence: JSON-schema chat calls, or ``max_concurrency: 1``)
and the batched decoders built on its weights (transcript_foundry/llm/batched_decoder.py: several sequences in a
second context), and freed when the process exits or ``release_all()`` is called. A run executed in its
own process (the Dagster daemon, ``dagster dev``) loads the model once for that process, as before.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from transcript_foundry.llm.batched_decoder import BatchedDecoder


@dataclass(frozen=True)
class ModelKey:
    path: str
    n_ctx: int
    n_threads: int


@dataclass
class LoadedModel:
    llm: Any  # llama_cpp.Llama
    lock: threading.Lock
    decoders: dict[tuple[int, int], BatchedDecoder] = field(default_factory=dict)  # (sequences, n_ctx) ->

    def decoder(self, sequences: int, n_ctx: int, n_threads: int) -> BatchedDecoder:
        """The batched decoder with ``sequences`` sequence slots on this model, built the first time."""
        with self.lock:
            decoder = self.decoders.get((sequences, n_ctx))
            if decoder is None:
                decoder = self.decoders[(sequences, n_ctx)] = BatchedDecoder(
                    self.llm, sequences=sequences, n_ctx=n_ctx, n_threads=n_threads
                )
            return decoder


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
                for decoder in model.decoders.values():
                    decoder.close()
                model.llm.close()


PROCESS_MODELS = LoadedModels()
atexit.register(PROCESS_MODELS.release_all)
