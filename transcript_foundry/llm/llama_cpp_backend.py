"""In-process llama.cpp backend (llama-cpp-python): the embedded default, or any GGUF file."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

from transcript_foundry.llm.backend import BackendInfo, Completion, LLMBackend, LLMCallError, SamplingParams
from transcript_foundry.llm.batched_decoder import BatchedDecoder, DecodeError, DecodeRequest
from transcript_foundry.llm.dry_penalty import DryPenalty
from transcript_foundry.llm.embedded_model import EMBEDDED_MODEL_NAME, ensure_embedded_model
from transcript_foundry.llm.loaded_models import PROCESS_MODELS, ModelKey
from transcript_foundry.pool.node_spec import NodeSpec
from transcript_foundry.settings.environment import default_threads


class LlamaCppBackend(LLMBackend):
    """A llama.cpp model loaded in this process (held in ``PROCESS_MODELS``, so later runs reuse it).

    Completions run on a ``BatchedDecoder`` (transcript_foundry/llm/batched_decoder.py) with ``max_concurrency``
    sequences (default 4): the dispatcher's workers call ``complete()`` at once and their next tokens are
    decoded in one batch, about 1.6x the tokens/s of one sequence on 2 CPU cores. Each sequence keeps its
    evaluated tokens, so a conversation's next turn only evaluates the new suffix, and the few-shot prefix a
    shard shares is copied between sequences, not evaluated again. With ``max_concurrency: 1``, and for
    JSON-schema chat calls, calls are serialised on llama-cpp-python's own single-sequence context.
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
        sequences = spec.concurrency_bounds[1]
        self._decoder: BatchedDecoder | None = (
            loaded.decoder(sequences, spec.context_window * sequences, self._threads)
            if sequences > 1
            else None
        )
        self._info = BackendInfo(
            node_id=spec.id,
            backend="llama_cpp",
            model=model_name,
            prompt_style=spec.resolved_prompt_style,
            context_window=spec.context_window,
            details={"model_path": str(path), "n_threads": self._threads, "sequences": sequences},
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
        return self._made(
            text,
            int(usage.get("prompt_tokens", 0)),
            int(usage.get("completion_tokens", 0)),
            seconds,
            result["choices"][0].get("finish_reason"),
        )

    def _made(
        self, text: str, prompt_tokens: int, completion_tokens: int, seconds: float, finish: str | None
    ) -> Completion:
        return Completion(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            seconds=seconds,
            finish_reason=finish,
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
        if self._decoder is not None:
            return self._complete_batched(self._decoder, prompt, params, processors)
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

    def _complete_batched(
        self,
        decoder: BatchedDecoder,
        prompt: str,
        params: SamplingParams,
        processors: list[DryPenalty] | None,
    ) -> Completion:
        tokens = self._llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if len(tokens) + params.max_tokens > self._spec.context_window:  # each sequence has one window
            raise LLMCallError(
                f"llama.cpp call failed: a prompt of {len(tokens)} tokens + max_tokens {params.max_tokens} "
                f"exceeds node {self._spec.id}'s context_window {self._spec.context_window}; raise "
                "context_window or shorten the prompt",
                node_id=self._spec.id,
                retryable=False,
            )
        request = DecodeRequest(
            prompt=tokens,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            repeat_penalty=params.repeat_penalty,
            stop=params.stop,
            seed=params.seed if params.seed is not None else random.getrandbits(31),
            processors=tuple(processors or ()),
        )
        try:
            result = decoder.complete(request)
        except DecodeError as exc:
            raise LLMCallError(f"llama.cpp call failed: {exc}", node_id=self._spec.id) from exc
        return self._made(
            result.text, result.prompt_tokens, result.completion_tokens, result.seconds, result.finish_reason
        )

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
