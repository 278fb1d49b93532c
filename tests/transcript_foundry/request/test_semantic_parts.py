"""The semantic layer's parts one by one: leftover phrases, loose counts, anchors, the embedding cache, the
matcher's decisions (on a toy encoder), and the numpy MiniLM against sentence-transformers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from transcript_foundry.domains.domain_pack import DomainPack, load_domain_pack_file, load_domain_packs
from transcript_foundry.request.embedding_cache import CACHE_ENV, encode_cached
from transcript_foundry.request.pack_anchors import all_anchors, other_industry_anchors
from transcript_foundry.request.residue import leftover_phrases
from transcript_foundry.request.semantic_match import SemanticMatcher, Thresholds
from transcript_foundry.request.vague_counts import rewrite_vague_counts

BANKING = Path(__file__).parent / "packs" / "banking.yaml"


@pytest.fixture(scope="module")
def packs() -> dict[str, DomainPack]:
    return load_domain_packs()


@pytest.mark.parametrize(
    ("masked", "phrases"),
    [
        ("3000                isp outage       , customers              ", ["isp outage"]),
        (
            "need 35 angry customers calling about a late furniture delivery",
            ["angry", "late furniture delivery"],
        ),
        ("calls from customers at the end of their rope", ["end of their rope"]),
        ("generate          please, and the     for me", []),
        ("sim swap and fiber installation", ["sim swap", "fiber installation"]),
    ],
)
def test_leftover_phrases(masked: str, phrases: list[str]) -> None:
    assert leftover_phrases(masked) == phrases


def test_leftover_phrases_keep_the_request_spelling() -> None:
    assert leftover_phrases("50 isp outage calls", "50 ISP Outage calls") == ["ISP Outage"]


@pytest.mark.parametrize(
    ("text", "rewritten", "value"),
    [
        ("a few hundred calls", "300 calls", 300),
        ("A couple of thousand chats", "2000 chats", 2000),
        ("several dozen recordings", "60 recordings", 60),
        ("a handful of hundred calls", "500 calls", 500),
    ],
)
def test_vague_counts(text: str, rewritten: str, value: int) -> None:
    out, found = rewrite_vague_counts(text)
    assert out == rewritten and [f.value for f in found] == [value]


def test_anchors_come_from_the_packs_own_text(packs: dict[str, DomainPack]) -> None:
    banking = load_domain_pack_file(BANKING)
    anchors = all_anchors({**packs, "banking": banking})
    texts = {(a.field, a.value, a.text) for a in anchors if a.domain == "banking"}
    assert ("scenario", "card_lost_stolen", "someone took my wallet") in texts
    assert ("domain", "banking", "neobank") in texts
    assert ("caller_type", "business", "sole traders") in texts
    assert ("domain", "banking", "account holders calling about a card that was swallowed by an ATM") in texts


def test_a_pack_takes_an_industry_over_by_naming_it(packs: dict[str, DomainPack]) -> None:
    assert "banking" in {a.value for a in other_industry_anchors(packs)}
    with_banking = {**packs, "banking": load_domain_pack_file(BANKING)}
    assert "banking" not in {a.value for a in other_industry_anchors(with_banking)}


def test_the_embedding_cache_encodes_each_text_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    calls: list[list[str]] = []

    def encoder() -> object:
        def encode(texts: Sequence[str]) -> np.ndarray:
            calls.append(list(texts))
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

        return encode

    first = encode_cached(["ab", "abc"], "fp", encoder)  # type: ignore[arg-type]
    again = encode_cached(["abc", "ab", "abcd"], "fp", encoder)  # type: ignore[arg-type]
    assert calls == [["ab", "abc"], ["abcd"]]
    assert first[:, 0].tolist() == [2, 3] and again[:, 0].tolist() == [3, 2, 4]
    assert (tmp_path / "fp.npz").is_file()


def _toy_encoder(vocabulary: list[str]) -> object:
    """Bag of words over ``vocabulary``, unit length: similarity is shared words."""

    def encode(texts: Sequence[str]) -> np.ndarray:
        rows = np.array([[float(w in t.lower().split()) for w in vocabulary] + [0.01] for t in texts])
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)

    return encode


def test_the_domain_needs_the_threshold_and_the_margin(
    packs: dict[str, DomainPack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    words = ["outage", "cancellation", "weather"]
    matcher = SemanticMatcher(packs, encoder=_toy_encoder(words), fingerprint="toy")  # type: ignore[arg-type]
    outage = matcher.rank_domains(["outage"])
    assert matcher.decide_domain(outage) is not None and outage[0].anchor.domain == "telecom"
    tie = matcher.rank_domains(["cancellation"])  # a keyword of retail and telecom scenarios alike
    assert tie[0].score == pytest.approx(tie[1].score) and matcher.decide_domain(tie) is None
    assert matcher.decide_domain(matcher.rank_domains(["weather"])) is None
    strict = SemanticMatcher(
        packs, encoder=_toy_encoder(words), fingerprint="toy", thresholds=Thresholds(domain=1.01)
    )  # type: ignore[arg-type]
    assert strict.decide_domain(strict.rank_domains(["outage"])) is None


def test_numpy_minilm_matches_sentence_transformers() -> None:
    pytest.importorskip("sentence_transformers")
    from transcript_foundry.dedup.embedding_model import load_model, resolve_model_dir
    from transcript_foundry.request.sentence_encoder import load_sentence_encoder

    texts = [
        "ISP outage",
        "Reporting an internet, TV or mobile outage",
        "café naïve — don't stop!!",
        "x" * 300,
    ]
    folder = resolve_model_dir()
    ours = load_sentence_encoder(folder).encode(texts)
    reference = load_model(folder).encode(texts, normalize_embeddings=True)
    assert np.abs(ours - reference).max() < 1e-4
    tokenizer = load_model(folder).tokenizer
    assert load_sentence_encoder(folder).tokenizer.encode(texts[2]) == tokenizer(texts[2])["input_ids"]
