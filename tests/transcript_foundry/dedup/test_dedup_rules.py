"""Each dedup rule on its own catches its planted duplicates and keeps distinct calls, same-plan calls included."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.dedup_corpus import (
    case_punct_copy,
    exemplar_records,
    paraphrase,
    same_plan_call,
    same_scenario_pairs,
    structural_clone,
    vocabulary,
    word_edits,
)
from transcript_foundry.dedup.dedup_config import DedupConfig
from transcript_foundry.dedup.dedup_decision import DedupDecision
from transcript_foundry.dedup.dedup_index import DedupIndex
from transcript_foundry.dedup.flow_skeleton import skeleton, within_edits
from transcript_foundry.domains.domain_pack import DomainPack

Record = dict[str, Any]


@pytest.fixture(scope="module")
def distinct(packs: dict[str, DomainPack]) -> list[Record]:
    """Every exemplar, where the second call of a same-scenario pair is put on the first one's skeleton:
    distinct calls that share a beat plan, which no rule may drop."""
    records = exemplar_records(packs)
    swapped = {b["id"]: same_plan_call(a, b) for a, b in same_scenario_pairs(records)}
    return [swapped.get(r["id"], r) for r in records]


@pytest.fixture(scope="module")
def embedder() -> Any:
    from transcript_foundry.dedup.call_embeddings import call_embedder

    embed, _ = call_embedder(None)
    return embed


def _run(config: DedupConfig, records: list[Record], embedder: Any = None) -> dict[str, DedupDecision]:
    return {d.id: d for d in DedupIndex(config, embedder).add_batch(records)}


def test_the_same_plan_calls_really_share_a_skeleton(distinct: list[Record]) -> None:
    by_id = {r["id"]: r for r in distinct}
    pairs = [(r, by_id[r["id"].split("-on-")[1]]) for r in distinct if "-on-" in r["id"]]
    assert len(pairs) >= 5
    shared = [a for a, b in pairs if skeleton(a["turns"]) == skeleton(b["turns"])]
    assert len(shared) >= 5  # same turn count: identical skeletons, different words


def test_exact_rule_catches_case_and_punctuation_copies(distinct: list[Record]) -> None:
    copies = [case_punct_copy(r) for r in distinct]
    decisions = _run(DedupConfig(rules=["exact"]), distinct + copies)
    assert all(decisions[r["id"]].kept for r in distinct)
    for original, copy in zip(distinct, copies, strict=True):
        d = decisions[copy["id"]]
        assert (d.rule, d.similarity, d.duplicate_of) == ("exact", 1.0, original["id"])


def test_exact_rule_keeps_word_edits(distinct: list[Record]) -> None:
    edits = [word_edits(r, 0.05, 1, vocabulary(distinct)) for r in distinct]
    decisions = _run(DedupConfig(rules=["exact"]), distinct + edits)
    assert all(d.kept for d in decisions.values())


@pytest.mark.parametrize("rate", [0.05, 0.10])
def test_minhash_rule_catches_edits_up_to_ten_percent(distinct: list[Record], rate: float) -> None:
    vocab = vocabulary(distinct)
    edits = [word_edits(r, rate, seed, vocab) for seed in (1, 2) for r in distinct]
    edits = [dict(e, id=f"{e['id']}-s{i}") for i, e in enumerate(edits)]
    decisions = _run(DedupConfig(rules=["minhash"]), distinct + edits)
    assert [r["id"] for r in distinct if not decisions[r["id"]].kept] == []
    caught = [decisions[e["id"]] for e in edits if decisions[e["id"]].rule == "minhash"]
    assert len(caught) == len(edits)
    originals = {r["id"] for r in distinct}
    for d in caught:
        assert d.duplicate_of in originals and d.id.startswith(d.duplicate_of)  # the right original
        assert 0.4 <= (d.similarity or 0) < 1.0


def test_minhash_rule_at_five_gram_point_nine_misses_five_percent_edits(distinct: list[Record]) -> None:
    """The measurement behind the defaults: the tempting setting lets 5 % edits through."""
    edits = [word_edits(r, 0.05, 1, vocabulary(distinct)) for r in distinct]
    strict = DedupConfig(rules=["minhash"], minhash_shingle_words=5, minhash_threshold=0.9)
    decisions = _run(strict, distinct + edits)
    assert sum(decisions[e["id"]].kept for e in edits) == len(edits)


def test_flow_rule_catches_structural_clones_and_keeps_same_plan_calls(distinct: list[Record]) -> None:
    clones = [structural_clone(r) for r in distinct]
    decisions = _run(DedupConfig(rules=["flow"]), distinct + clones)
    assert [r["id"] for r in distinct if not decisions[r["id"]].kept] == []
    for original, clone in zip(distinct, clones, strict=True):
        d = decisions[clone["id"]]
        assert (d.rule, d.duplicate_of) == ("flow", original["id"])
        assert (d.similarity or 0) >= 0.6


def test_flow_rule_needs_the_skeleton_too(distinct: list[Record]) -> None:
    """The same words on a different flow (turn acts relabelled) are not a flow duplicate."""
    relabelled = []
    for r in distinct:
        clone = structural_clone(r)
        clone["turns"] = [dict(t, act=f"other_{i}") for i, t in enumerate(clone["turns"])]
        relabelled.append(clone)
    decisions = _run(DedupConfig(rules=["flow"]), distinct + relabelled)
    assert all(d.kept for d in decisions.values())


def test_skeleton_distance() -> None:
    assert within_edits("A:greet C:ask A:close", "A:greet C:ask A:close", 0)
    assert within_edits("A:greet C:ask A:close", "A:greet C:ask C:thanks A:close", 1)
    assert within_edits("A:greet C:ask A:close", "A:greet C:tell A:close", 1)
    assert not within_edits("A:greet C:ask A:close", "A:greet C:tell A:bye", 1)
    assert not within_edits("A:greet", "A:greet C:ask A:close", 1)


def test_rules_run_cheapest_first_and_name_the_first_that_fires(distinct: list[Record]) -> None:
    copy, edited = case_punct_copy(distinct[0]), word_edits(distinct[1], 0.05, 3, vocabulary(distinct))
    decisions = _run(DedupConfig(rules=["exact", "minhash", "flow"]), [*distinct, copy, edited])
    assert decisions[copy["id"]].rule == "exact"
    assert decisions[edited["id"]].rule == "minhash"


def test_a_duplicate_of_a_dropped_transcript_points_at_the_kept_one(distinct: list[Record]) -> None:
    original = distinct[0]
    first, second = case_punct_copy(original), dict(case_punct_copy(original), id="second-copy")
    decisions = _run(DedupConfig(rules=["exact"]), [original, first, second])
    assert decisions["second-copy"].duplicate_of == original["id"]


@pytest.mark.slow
def test_semantic_rule_catches_paraphrases_and_keeps_distinct_calls(
    distinct: list[Record], embedder: Any
) -> None:
    """all-MiniLM-L6-v2, offline. Measured (docs/dedup.md): paraphrases 0.93-1.00, distinct calls <= 0.80."""
    sample = distinct[::2]  # 13 calls + 13 paraphrases: small enough for CI
    paraphrases = [paraphrase(r) for r in sample]
    default = DedupIndex(DedupConfig(rules=["semantic"]), embedder)
    decisions = {d.id: d for d in default.add_batch(sample + paraphrases)}
    assert [r["id"] for r in sample if not decisions[r["id"]].kept] == []
    caught = [decisions[p["id"]] for p in paraphrases if not decisions[p["id"]].kept]
    assert len(caught) >= 0.7 * len(paraphrases)
    assert all(d.rule == "semantic" and d.id == f"{d.duplicate_of}-para" for d in caught)
    assert all((d.similarity or 0) >= 0.95 for d in caught)
    # At 0.9 every paraphrase is caught and still no distinct call is dropped.
    looser = DedupIndex(DedupConfig(rules=["semantic"], semantic_threshold=0.9), embedder)
    decisions = {d.id: d for d in looser.add_batch(sample + paraphrases)}
    assert [r["id"] for r in sample if not decisions[r["id"]].kept] == []
    assert all(decisions[p["id"]].duplicate_of == s["id"] for s, p in zip(sample, paraphrases, strict=True))
