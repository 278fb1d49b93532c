"""Matching a request's leftover words with the packs' anchors by meaning, and the thresholds that decide.

The rules read what they can read exactly; the words they leave (``residue.leftover_phrases``) come here.
Each phrase and each anchor (``pack_anchors``) is embedded with the shipped MiniLM model and compared by
cosine similarity. A field takes a value only when its best match clears the field's threshold; the domain
must also lead every other domain (and every industry without a pack) by a margin in its support, the mean
of its best score over the request's phrases. Otherwise the request is refused with the closest candidates.

Calibration (bench/request_parsing.py, and the single-word probes behind it): a phrase that names a pack's
domain or scenario scores 0.62-1.0 ("ISP" 0.79, "Medicare enrollment" 0.64, "someone took my wallet"
0.84), while words of industries no pack covers and unrelated words score 0.35-0.6 against the packs
("airline" 0.55, "mortgage" 0.54, "pizza" 0.46): domain 0.60, margin 0.05. Scenario paraphrases that are
right score 0.57-0.78, stray words 0.5-0.56 ("lines are dead" ≈ "add a line" 0.56): scenario 0.57. A
single leftover word matches single tone words loosely ("slow" ≈ "rushed" 0.61, "mistake" ≈ "confusion"
0.58), so tone needs 0.65; caller phrases share words with persona synonyms ("buyers" ≈ "shop owners"
0.69, "older shoppers" ≈ "new shoppers" 0.70), so caller type needs 0.72.

The model is loaded on the first call that needs a similarity, once per process; anchor embeddings come
from the on-disk cache (``embedding_cache``), so a request encodes only its own few phrases.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.request.embedding_cache import Encode, encode_cached, model_fingerprint
from transcript_foundry.request.pack_anchors import Anchor, all_anchors


@dataclass(frozen=True)
class Thresholds:
    """Minimum cosine similarity per field, and the domain's lead over the next domain."""

    domain: float = 0.6
    domain_margin: float = 0.05
    scenario: float = 0.57
    emotional_tone: float = 0.65
    caller_type: float = 0.72

    def of(self, field: str) -> float:
        return float(getattr(self, "domain" if field == "other_industry" else field))


THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Match:
    """The request's ``phrase`` is closest to ``anchor``, with cosine similarity ``score``."""

    phrase: str
    anchor: Anchor
    score: float
    support: float | None = None  # for a domain: its mean best score over all the request's phrases

    @property
    def value(self) -> str:
        return self.anchor.value


def _support(match: Match) -> float:
    return match.score if match.support is None else match.support


def _numpy_runs(folder: Path) -> bool:
    """Whether ``sentence_encoder`` runs this model folder (a BERT with safetensors weights, as shipped)."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return config.get("model_type") == "bert" and (folder / "model.safetensors").is_file()


def _default_encoder() -> tuple[Callable[[], Encode], str]:
    """The shipped MiniLM in numpy; another model (``TRANSCRIPTS_EMBEDDING_MODEL``) through
    sentence-transformers. Raises ``EmbeddingModelError`` when no model is installed."""
    from transcript_foundry.dedup.embedding_model import load_model, resolve_model_dir

    folder = resolve_model_dir()
    if _numpy_runs(folder):

        def load() -> Encode:
            from transcript_foundry.request.sentence_encoder import load_sentence_encoder

            return load_sentence_encoder(folder).encode

        return load, model_fingerprint(folder)

    def load_other() -> Encode:
        model = load_model(folder)
        return lambda texts: model.encode(list(texts), normalize_embeddings=True)

    return load_other, model_fingerprint(folder)


_VECTORS: dict[tuple[tuple[str, ...], str], np.ndarray] = {}  # anchor embeddings, read once per process


def _anchor_vectors(texts: tuple[str, ...], fingerprint: str, load: Callable[[], Encode]) -> np.ndarray:
    key = (texts, fingerprint)
    if key not in _VECTORS:
        _VECTORS.clear()  # one set of packs at a time
        _VECTORS[key] = encode_cached(list(texts), fingerprint, load)
    return _VECTORS[key]


class SemanticMatcher:
    """Anchors of ``packs`` and tones; ``encoder`` (texts -> unit rows) defaults to the shipped MiniLM."""

    def __init__(
        self,
        packs: Mapping[str, DomainPack],
        *,
        encoder: Encode | None = None,
        fingerprint: str | None = None,
        thresholds: Thresholds = THRESHOLDS,
    ) -> None:
        self.anchors = all_anchors(packs)
        self.thresholds = thresholds
        self._encoder = encoder
        self._fingerprint = fingerprint
        self._ready: tuple[Encode, np.ndarray] | None = None
        self._phrases: dict[str, np.ndarray] = {}

    @property
    def loaded(self) -> bool:
        """Whether this matcher has needed the model (a request the rules settle never does)."""
        return self._ready is not None

    def _encoder_and_vectors(self) -> tuple[Encode, np.ndarray]:
        if self._ready is None:
            if self._encoder is not None:
                encoder = self._encoder
                load, fingerprint = (lambda: encoder), self._fingerprint or "custom"
            else:
                load, fingerprint = _default_encoder()
            vectors = _anchor_vectors(tuple(a.text for a in self.anchors), fingerprint, load)
            self._ready = (load(), vectors)
        return self._ready

    def similarities(self, phrases: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each phrase (rows) with each anchor (columns)."""
        encode, vectors = self._encoder_and_vectors()
        new = [p for p in dict.fromkeys(phrases) if p not in self._phrases]
        if new:
            self._phrases.update(zip(new, np.asarray(encode(new), dtype=np.float32), strict=True))
        return np.stack([self._phrases[p] for p in phrases]) @ vectors.T

    def rank(
        self, phrases: Sequence[str], keep: Callable[[Anchor], bool], key: Callable[[Anchor], str]
    ) -> list[Match]:
        """The best match for each ``key`` (a domain, a scenario, a tone) among anchors ``keep`` allows,
        best first."""
        columns = [i for i, a in enumerate(self.anchors) if keep(a)]
        if not phrases or not columns:
            return []
        scores = self.similarities(phrases)[:, columns]
        best: dict[str, Match] = {}
        for row, phrase in enumerate(phrases):
            for col, anchor_index in enumerate(columns):
                anchor = self.anchors[anchor_index]
                score = float(scores[row, col])
                if key(anchor) not in best or score > best[key(anchor)].score:
                    best[key(anchor)] = Match(phrase, anchor, score)
        return sorted(best.values(), key=lambda m: -m.score)

    def rank_domains(self, phrases: Sequence[str], domains: Iterable[str] | None = None) -> list[Match]:
        """Domains (and industries without a pack) by their support: the mean over the phrases of each
        phrase's best domain or scenario anchor, so that a domain two phrases point at beats one that a
        single phrase happens to touch. Each match names the phrase and anchor that came closest."""
        allowed = set(domains) if domains is not None else None

        def keep(a: Anchor) -> bool:
            pack_text = a.field in ("domain", "scenario") and (allowed is None or a.domain in allowed)
            return a.field == "other_industry" or pack_text

        def key(a: Anchor) -> str:
            return a.domain or f"other:{a.value}"

        self.similarities(phrases)  # one batch for all the phrases; rank() below reuses their vectors
        per_phrase = [self.rank([phrase], keep, key) for phrase in phrases]
        best: dict[str, Match] = {}
        totals: dict[str, float] = {}
        for ranked in per_phrase:
            for match in ranked:
                name = key(match.anchor)
                totals[name] = totals.get(name, 0.0) + match.score
                if name not in best or match.score > best[name].score:
                    best[name] = match
        supported = [replace(m, support=totals[name] / len(per_phrase)) for name, m in best.items()]
        return sorted(supported, key=lambda m: -(m.support or 0.0))

    def rank_field(self, phrases: Sequence[str], field: str, domain: str | None = None) -> list[Match]:
        """Values of ``field`` (scenario, emotional_tone, caller_type), within ``domain`` for pack fields."""
        return self.rank(
            phrases,
            lambda a: a.field == field and (domain is None or a.domain in (None, domain)),
            lambda a: a.value,
        )

    def decide_domain(self, ranked: Sequence[Match]) -> Match | None:
        """The best domain when it clears the threshold and leads the next domain by the margin (an
        industry without a pack never wins)."""
        if (
            not ranked
            or ranked[0].anchor.field == "other_industry"
            or ranked[0].score < self.thresholds.domain
        ):
            return None
        if len(ranked) > 1 and _support(ranked[0]) - _support(ranked[1]) < self.thresholds.domain_margin:
            return None
        return ranked[0]

    def decide(self, ranked: Sequence[Match], field: str) -> Match | None:
        return ranked[0] if ranked and ranked[0].score >= self.thresholds.of(field) else None
