"""Several completions decoded together in one llama.cpp context: one sequence per caller.

A single sequence leaves most of a CPU's matrix throughput unused: one decode step of the 270M embedded model
costs about 24 ms for one token and about 33 ms for four tokens of four sequences (logits for each) on 2
cores. With the prompt suffixes each turn evaluates and the sampling, four conversations written at once
give about 1.6x the tokens per second of one. ``BatchedDecoder`` owns a
second llama.cpp context on the loaded model with ``sequences`` sequence slots in one unified KV cache and
a thread that decodes every active request's next token in one batch per step (continuous batching, as
llama-server's slots do). Callers (the dispatcher's worker threads, one conversation each) block in
``complete()``.

KV reuse: a request goes to the free slot whose cached tokens share the longest prefix with its prompt, so a
conversation's next turn lands in the slot holding its own history and only the new suffix is evaluated.
When another slot holds a longer prefix (the few-shot exemplars every conversation of a shard shares), it
is copied (``llama_memory_seq_cp``: cells are shared, nothing is recomputed). Sampling uses llama.cpp's own
sampler chain, built as llama-cpp-python builds it for ``create_completion`` (custom logits processors,
repeat penalty over the generated tokens, top-k 40, top-p, min-p 0.05, temperature, seeded draw) on a
context with the same settings (flash attention off, as llama-cpp-python sets it), so from a fresh cache a
request gives ``create_completion``'s text for the same seed.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

LogitsProcessor = Callable[[npt.NDArray[np.intc], npt.NDArray[np.single]], npt.NDArray[np.single]]

MIN_COPIED_PREFIX = 32  # a shorter shared prefix is cheaper to evaluate than to look after
# llama_token_data as numpy sees it: the candidates a logits processor edits in place.
TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


@dataclass(frozen=True)
class DecodeRequest:
    prompt: Sequence[int]
    max_tokens: int
    temperature: float
    top_p: float
    repeat_penalty: float
    stop: tuple[str, ...] = ()
    seed: int = 0
    processors: tuple[LogitsProcessor, ...] = ()
    top_k: int = 40
    min_p: float = 0.05
    penalty_last_n: int = 64


@dataclass(frozen=True)
class DecodeResult:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (a stop string or end of generation) or "length"
    seconds: float


class DecodeError(RuntimeError):
    """llama.cpp refused a batch (the KV cache is full, or decoding failed)."""


@dataclass
class _Pending:
    request: DecodeRequest
    done: threading.Event = field(default_factory=threading.Event)
    result: DecodeResult | None = None
    error: BaseException | None = None
    submitted: float = field(default_factory=time.perf_counter)


@dataclass
class _Slot:
    seq: int
    cached: list[int] = field(default_factory=list)  # tokens in the KV cache for this sequence, by position
    job: _Pending | None = None
    todo: list[int] = field(default_factory=list)  # prompt tokens not evaluated yet
    generated: list[int] = field(default_factory=list)
    text: bytearray = field(default_factory=bytearray)
    sampler: Any = None  # llama_cpp._internals.LlamaSampler
    # Waiting for another sequence to finish evaluating a prefix this one shares (then copied): (slot, length).
    awaits: tuple[_Slot, int] | None = None


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def useful(shared: int) -> int:
    return shared if shared >= MIN_COPIED_PREFIX else 0


class BatchedDecoder:
    def __init__(
        self,
        llm: Any,  # llama_cpp.Llama: its model weights are shared, its own context is left alone
        *,
        sequences: int,
        n_ctx: int,
        n_threads: int,
        n_batch: int = 512,
    ):
        import llama_cpp
        from llama_cpp import _internals

        if sequences < 1:
            raise ValueError("sequences must be at least 1")
        self._lib = llama_cpp
        self._internals = _internals
        self._llm = llm
        # The settings llama-cpp-python chose for the model's own context (flash attention off, RoPE/YaRN
        # from the model), so a request computes as it would there; then room for the sequences.
        params = llama_cpp.llama_context_params()
        ctypes.pointer(params)[0] = llm.context_params
        params.n_ctx = n_ctx
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = sequences
        params.n_threads = n_threads
        params.n_threads_batch = n_threads
        params.kv_unified = True  # one cache for all sequences: a copied prefix is shared, not duplicated
        self._ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        self._memory = llama_cpp.llama_get_memory(self._ctx.ctx)
        self._vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
        self._n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self.n_batch = n_batch
        self.n_ctx = n_ctx
        self.sequences = sequences
        self._slots = [_Slot(seq=i) for i in range(sequences)]
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.evaluated_prompt_tokens = 0  # prompt tokens decoded (not reused from the cache or copied)
        self.copied_tokens = 0  # prompt tokens copied from another sequence's cache
        self.peak_sequences = 0  # the most sequences one decode step carried
        self.evictions = 0  # times a full KV cache dropped what idle sequences kept
        self._thread = threading.Thread(target=self._loop, name="llama-batch", daemon=True)
        self._thread.start()

    # ---- callers -----------------------------------------------------------------------------------------
    def complete(self, request: DecodeRequest) -> DecodeResult:
        """Decode one request alongside the others in flight; blocks until it is finished."""
        if not request.prompt:
            raise ValueError("prompt: at least one token is needed")
        if len(request.prompt) + request.max_tokens > self.n_ctx:
            raise DecodeError(
                f"prompt of {len(request.prompt)} tokens + max_tokens {request.max_tokens} does not fit the "
                f"context of {self.n_ctx} tokens"
            )
        pending = _Pending(request)
        with self._cond:
            if self._closed:
                raise DecodeError("the batched decoder is closed")
            self._queue.append(pending)
            self._cond.notify()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        return pending.result

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=30)
        for slot in self._slots:
            if slot.sampler is not None:
                slot.sampler.close()
        self._lib.llama_batch_free(self._batch)
        self._ctx.close()

    # ---- the decode thread -------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._queue and not self._active():
                    self._cond.wait()
                if self._closed:
                    failed = list(self._queue) + [s.job for s in self._active() if s.job is not None]
                    self._queue.clear()
                    break
                while self._queue and any(s.job is None for s in self._slots):
                    job = self._queue.popleft()
                    try:
                        self._admit(job)
                    except Exception as exc:  # this caller gets the error; the others go on
                        for slot in self._slots:
                            if slot.job is job:
                                self._finish(slot, error=exc)
                        if not job.done.is_set():
                            job.error = exc
                            job.done.set()
            try:
                self._step()
            except Exception as exc:  # every waiting caller gets the error; the thread goes on
                for slot in self._active():
                    self._finish(slot, error=exc)
                self._forget_all()
        for job in failed:
            job.error = DecodeError("the batched decoder was closed")
            job.done.set()

    def _active(self) -> list[_Slot]:
        return [s for s in self._slots if s.job is not None]

    def _admit(self, job: _Pending) -> None:
        prompt = list(job.request.prompt)
        free = [s for s in self._slots if s.job is None]
        # The free sequence holding the longest useful prefix of the prompt; failing one, the emptiest, so the
        # others keep their caches for reuse (dropped only when the KV cache is full: _evict_idle).
        slot = max(free, key=lambda s: (useful(common_prefix(s.cached, prompt)), -len(s.cached)))
        slot.job = job
        slot.generated = []
        slot.text = bytearray()
        slot.sampler = self._sampler(job.request, slot)
        keep = common_prefix(slot.cached, prompt)
        # A prefix another sequence is still evaluating (several conversations of a shard start at once):
        # wait for it and copy it, rather than evaluate it again here.
        pending = [s for s in self._slots if s is not slot and s.todo and s.awaits is None]
        planned = max(pending, key=lambda s: common_prefix(s.cached + s.todo, prompt), default=None)
        if planned is not None:
            shared = common_prefix(planned.cached + planned.todo, prompt)
            if shared > common_prefix(planned.cached, prompt) and shared >= keep + MIN_COPIED_PREFIX:
                slot.awaits = (planned, min(shared, len(prompt) - 1))
                slot.todo = prompt
                return
        self._place(slot, prompt, keep)

    def _place(self, slot: _Slot, prompt: list[int], keep: int) -> None:
        """Put ``prompt`` in ``slot``'s sequence: keep its first ``keep`` cached tokens, or copy a longer shared
        prefix from another sequence, and queue the rest for evaluation."""
        donor = max(self._slots, key=lambda s: common_prefix(s.cached, prompt))
        shared = common_prefix(donor.cached, prompt)
        if donor is not slot and shared >= keep + MIN_COPIED_PREFIX:
            self._lib.llama_memory_seq_rm(self._memory, slot.seq, -1, -1)
            self._lib.llama_memory_seq_cp(self._memory, donor.seq, slot.seq, 0, shared)
            slot.cached = prompt[:shared]
            keep = shared
            self.copied_tokens += shared
        keep = min(keep, len(prompt) - 1)  # the last prompt token is evaluated again: its logits are needed
        self._lib.llama_memory_seq_rm(self._memory, slot.seq, keep, -1)
        slot.cached = slot.cached[:keep]
        slot.todo = prompt[keep:]
        slot.awaits = None

    def _release_waiters(self) -> None:
        for slot in self._slots:
            if slot.awaits is None:
                continue
            donor, length = slot.awaits
            prompt = slot.todo
            if len(donor.cached) >= length or not donor.todo or donor.job is None:
                self._place(slot, prompt, common_prefix(slot.cached, prompt))

    def _sampler(self, request: DecodeRequest, slot: _Slot) -> Any:
        sampler = self._internals.LlamaSampler()
        if request.processors:
            processors = request.processors

            def apply(candidates: Any) -> None:
                size = candidates.contents.size
                data = self._lib.llama_token_data * size
                rows = np.recarray(
                    shape=(size,),
                    dtype=TOKEN_DATA,
                    buf=data.from_address(ctypes.addressof(candidates.contents.data.contents)),
                )
                context = np.fromiter(slot.cached, dtype=np.intc, count=len(slot.cached))
                for processor in processors:
                    rows.logit[:] = processor(context, rows.logit)

            sampler.add_custom(apply)
        sampler.add_penalties(
            n_vocab=self._n_vocab,
            penalty_last_n=request.penalty_last_n,
            penalty_repeat=request.repeat_penalty,
            penalty_freq=0.0,
            penalty_present=0.0,
        )
        if request.temperature <= 0:
            sampler.add_greedy()
        else:
            sampler.add_top_k(request.top_k)
            sampler.add_typical(1.0, 1)
            sampler.add_top_p(request.top_p, 1)
            sampler.add_min_p(request.min_p, 1)
            sampler.add_temp(request.temperature)
            sampler.add_dist(request.seed & 0xFFFFFFFF)
        return sampler

    def _step(self) -> None:
        batch = self._batch
        outputs: list[tuple[_Slot, int]] = []
        n = 0

        def add(slot: _Slot, token: int, logits: bool) -> None:
            nonlocal n
            batch.token[n] = token
            batch.pos[n] = len(slot.cached)
            batch.n_seq_id[n] = 1
            batch.seq_id[n][0] = slot.seq
            batch.logits[n] = logits
            slot.cached.append(token)
            if logits:
                outputs.append((slot, n))
            n += 1

        self._release_waiters()
        active = [s for s in self._active() if s.awaits is None]
        for slot in active:  # sequences writing: their last sampled token, one each
            if not slot.todo:
                add(slot, slot.generated[-1], True)
        for slot in active:  # sequences reading their prompt: what room is left, in order
            take = min(len(slot.todo), self.n_batch - n)
            for k, token in enumerate(slot.todo[:take]):
                add(slot, token, k == len(slot.todo) - 1)
            slot.todo = slot.todo[take:]
            self.evaluated_prompt_tokens += take
        if n == 0:
            return
        self.peak_sequences = max(self.peak_sequences, len(active))
        batch.n_tokens = n
        status = self._lib.llama_decode(self._ctx.ctx, batch)
        if status == 1 and self._evict_idle():  # no room in the KV cache: drop what idle sequences keep
            status = self._lib.llama_decode(self._ctx.ctx, batch)
        if status != 0:
            raise DecodeError(
                f"llama_decode returned {status} for a batch of {n} tokens from {len(active)} sequences"
                + (
                    " (the KV cache is full: lower max_concurrency or raise context_window)"
                    if status == 1
                    else ""
                )
            )
        for slot, index in outputs:
            token = slot.sampler.sample(self._ctx, index)
            self._accept(slot, token)

    def _accept(self, slot: _Slot, token: int) -> None:
        assert slot.job is not None
        request = slot.job.request
        slot.generated.append(token)
        if self._lib.llama_vocab_is_eog(self._vocab, token):
            self._finish(slot, finish="stop", drop_last=True)
            return
        slot.text += self._llm.detokenize([token], prev_tokens=slot.generated[:-1] or None)
        text = slot.text.decode("utf-8", errors="ignore")
        for stop in request.stop:
            at = text.find(stop)
            if at >= 0:
                self._finish(slot, finish="stop", text=text[:at])
                return
        if len(slot.generated) >= request.max_tokens:
            self._finish(slot, finish="length", text=text)

    def _finish(
        self,
        slot: _Slot,
        *,
        finish: str = "stop",
        text: str | None = None,
        drop_last: bool = False,
        error: BaseException | None = None,
    ) -> None:
        job = slot.job
        assert job is not None
        if error is not None:
            job.error = error
        else:
            if text is None:
                text = slot.text.decode("utf-8", errors="ignore")
            job.result = DecodeResult(
                text=text,
                prompt_tokens=len(job.request.prompt),
                completion_tokens=len(slot.generated) - (1 if drop_last else 0),
                finish_reason=finish,
                seconds=time.perf_counter() - job.submitted,
            )
        slot.job = None
        slot.todo = []
        slot.awaits = None
        if slot.sampler is not None:
            slot.sampler.close()
            slot.sampler = None
        job.done.set()

    def _evict_idle(self) -> bool:
        """Free the cache of every sequence without a request (kept only for reuse); True if any was held."""
        freed = False
        for slot in self._slots:
            if slot.job is None and slot.cached:
                self._lib.llama_memory_seq_rm(self._memory, slot.seq, -1, -1)
                slot.cached = []
                freed = True
        self.evictions += freed
        return freed

    def _forget_all(self) -> None:
        """After a failed step the cache contents are unknown: start every sequence from nothing."""
        self._lib.llama_memory_clear(self._memory, True)
        for slot in self._slots:
            slot.cached = []
