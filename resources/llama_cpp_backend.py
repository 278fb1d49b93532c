"""In-process llama.cpp backend (llama-cpp-python): the embedded default, or any GGUF file."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from resources.dry_penalty import DryPenalty
from resources.embedded_model import EMBEDDED_MODEL_NAME, ensure_embedded_model
from resources.llm_backend import BackendInfo, Completion, LLMBackend, LLMCallError, SamplingParams
from resources.loaded_models import PROCESS_MODELS, ModelKey
from resources.node_spec import NodeSpec
from resources.settings import default_threads


class LlamaCppBackend(LLMBackend):
    """A llama.cpp model loaded in this process (held in ``PROCESS_MODELS``, so later runs reuse it).

    Calls are serialised (a llama.cpp context is single-sequence); llama-cpp-python keeps the evaluated
    tokens, so a prompt that shares a prefix with the previous one (the few-shot exemplars, the
    conversation so far, the previous shard's prefix) only evaluates the new suffix.
    """

    def __init__(self, spec: NodeSpec):
        from llama_cpp import Llama

        if spec.model_path:
            path = Path(spec.model_path).expanduser()
            if not path.is_file():
                raise FileNotFoundError(
                    f"node {spec.id}: model_path {path} does not exist (give the path of a .gguf file, "
                    "or leave model_path unset for the embedded default model)"
                )
            model_name = spec.model or path.stem
        else:
            path = ensure_embedded_model()
            model_name = spec.model or EMBEDDED_MODEL_NAME
        self._spec = spec
        self._dry: dict[tuple[float, float, int], DryPenalty] = {}
        self._threads = spec.n_threads or default_threads()
        key = ModelKey(path=str(path.resolve()), n_ctx=spec.context_window, n_threads=self._threads)
        loaded = PROCESS_MODELS.get(
            key,
            lambda: Llama(
                model_path=str(path),
                n_ctx=spec.context_window,
                n_threads=self._threads,
                n_threads_batch=self._threads,
                n_batch=512,
                verbose=os.environ.get("TRANSCRIPTS_LLAMA_VERBOSE") == "1",
            ),
        )
        self._llm = loaded.llm
        self._lock = loaded.lock
        self._info = BackendInfo(
            node_id=spec.id,
            backend="llama_cpp",
            model=model_name,
            prompt_style=spec.resolved_prompt_style,
            context_window=spec.context_window,
            details={"model_path": str(path), "n_threads": self._threads},
        )

    @property
    def info(self) -> BackendInfo:
        return self._info

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False))

    def _run(self, call: Any) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        with self._lock:
            try:
                result = call()
            except (ValueError, RuntimeError) as exc:  # context overflow, decode failure
                raise LLMCallError(f"llama.cpp call failed: {exc}", node_id=self._spec.id) from exc
        return result, time.perf_counter() - started

    def _completion(self, result: dict[str, Any], seconds: float, text: str) -> Completion:
        usage = result.get("usage", {})
        return Completion(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            seconds=seconds,
            finish_reason=result["choices"][0].get("finish_reason"),
            node_id=self._spec.id,
            model=self._info.model,
        )

    def _token_text(self, token: int) -> str:
        return self._llm.detokenize([token]).decode("utf-8", errors="ignore")

    def _logits_processors(self, params: SamplingParams) -> list[DryPenalty] | None:
        if params.dry_multiplier <= 0:
            return None
        key = (params.dry_multiplier, params.dry_base, params.dry_allowed_length)
        if key not in self._dry:
            self._dry[key] = DryPenalty(
                self._token_text,
                multiplier=params.dry_multiplier,
                base=params.dry_base,
                allowed_length=params.dry_allowed_length,
            )
        return [self._dry[key]]

    def complete(self, prompt: str, params: SamplingParams) -> Completion:
        processors = self._logits_processors(params)
        result, seconds = self._run(
            lambda: self._llm.create_completion(
                prompt,
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                repeat_penalty=params.repeat_penalty,
                stop=list(params.stop) or None,
                seed=params.seed,
                logits_processor=processors,
            )
        )
        return self._completion(result, seconds, result["choices"][0]["text"])

    def chat_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], params: SamplingParams
    ) -> Completion:
        result, seconds = self._run(
            lambda: self._llm.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                response_format={"type": "json_object", "schema": schema},
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                repeat_penalty=params.repeat_penalty,
                seed=params.seed,
            )
        )
        return self._completion(result, seconds, result["choices"][0]["message"].get("content") or "")

    def close(self) -> None:
        """Nothing to free here: the model stays loaded for the next run of this process (PROCESS_MODELS)."""
