"""The dedup index: incremental batches through the stored index decide exactly what one run decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.dedup_corpus import (
    case_punct_copy,
    exemplar_records,
    structural_clone,
    vocabulary,
    word_edits,
)
from transcript_foundry.dedup.dedup_config import DedupConfig
from transcript_foundry.dedup.dedup_index import DedupIndex
from transcript_foundry.dedup.index_store import IndexLayoutChanged, load_index, save_rows
from transcript_foundry.dedup.lsh_bands import Banding, BandLookup
from transcript_foundry.domains.domain_pack import DomainPack

LEXICAL = DedupConfig(rules=["exact", "minhash", "flow"])


@pytest.fixture(scope="module")
def mixed(packs: dict[str, DomainPack]) -> list[dict[str, Any]]:
    """Distinct calls interleaved with planted duplicates of earlier ones (copies, edits, clones)."""
    records = exemplar_records(packs)
    vocab = vocabulary(records)
    out: list[dict[str, Any]] = []
    for i, r in enumerate(records):
        out.append(r)
        if i >= 2:
            earlier = records[i - 2]
            kind = i % 3
            if kind == 0:
                out.append(case_punct_copy(earlier))
            elif kind == 1:
                out.append(structural_clone(earlier))
            else:
                out.append(word_edits(earlier, 0.1, i, vocab))
    return out


def _decisions(index: DedupIndex, records: list[dict[str, Any]], batch: int) -> list[tuple]:
    made = []
    for start in range(0, len(records), batch):
        made.extend(index.add_batch(records[start : start + batch]))
    return [(d.id, d.rule, d.duplicate_of) for d in made]


def test_incremental_runs_through_the_stored_index_match_one_run(
    mixed: list[dict[str, Any]], tmp_path: Path
) -> None:
    one_shot = _decisions(DedupIndex(LEXICAL), mixed, batch=len(mixed))
    assert sum(rule is not None for _, rule, _ in one_shot) == len(mixed) - 25  # every planted one caught

    folder = tmp_path / "dedup_index"
    incremental = []
    for start in range(0, len(mixed), 7):  # a fresh process per "run": load, add a batch, save
        index = load_index(folder, LEXICAL, None, None)
        rows_before = len(index)
        incremental.extend(_decisions(index, mixed[start : start + 7], batch=7))
        save_rows(folder, index, rows_before, None)
    assert incremental == one_shot
    assert len(list(folder.glob("seg-*"))) == len(range(0, len(mixed), 7))
    assert len(load_index(folder, LEXICAL, None, None)) == 25


def test_batch_size_does_not_change_the_decisions(mixed: list[dict[str, Any]]) -> None:
    assert _decisions(DedupIndex(LEXICAL), mixed, batch=1) == _decisions(
        DedupIndex(LEXICAL), mixed, batch=1000
    )


def test_an_index_built_with_other_settings_is_refused(mixed: list[dict[str, Any]], tmp_path: Path) -> None:
    index = DedupIndex(LEXICAL)
    index.add_batch(mixed[:5])
    save_rows(tmp_path, index, 0, None)
    with pytest.raises(IndexLayoutChanged, match="minhash_shingle_words"):
        load_index(
            tmp_path, DedupConfig(rules=["exact", "minhash", "flow"], minhash_shingle_words=5), None, None
        )


def test_repeated_ids_are_refused(mixed: list[dict[str, Any]]) -> None:
    index = DedupIndex(LEXICAL)
    index.add_batch(mixed[:3])
    with pytest.raises(ValueError, match="id: transcript ids must be unique"):
        index.add_batch(mixed[2:4])


def test_band_lookup_finds_exactly_the_rows_sharing_a_band() -> None:
    rng = np.random.default_rng(7)
    library = rng.integers(0, 2**32, size=(200, 128), dtype=np.uint64).astype(np.uint32)
    queries = library[[3, 50]].copy()
    queries[1, :64] = 0  # half the values changed: still shares the later bands with row 50
    banding = Banding.for_threshold(0.4, 128)
    q, rows = BandLookup(banding.keys(library)).candidate_pairs(banding.keys(queries))
    assert sorted(zip(q.tolist(), rows.tolist(), strict=True)) == [(0, 3), (1, 50)]


def test_vectorised_signatures_equal_datasketch_minhash(mixed: list[dict[str, Any]]) -> None:
    from datasketch import MinHash

    from transcript_foundry.dedup.minhash_signatures import MINHASH_SEED, SCHEME, signatures
    from transcript_foundry.dedup.transcript_words import call_tokens, shingle_hashes

    sets = [shingle_hashes(call_tokens(r["turns"]), 3) for r in mixed[:6]]
    ours = signatures(sets, 64)
    for row, hashes in zip(ours, sets, strict=True):
        reference = MinHash(num_perm=64, seed=MINHASH_SEED, scheme=SCHEME, hashfunc=int)
        reference.update_batch(hashes.tolist())
        assert (row == reference.hashvalues).all()


def test_the_index_hash_is_the_ledger_content_hash(mixed: list[dict[str, Any]]) -> None:
    from transcript_foundry.contract.content_hash import content_hash

    tricky = dict(
        mixed[0], id="tricky", turns=[dict(t, text=f"{t['text']} spk_agent") for t in mixed[0]["turns"]]
    )
    for record in [*mixed[:10], tricky]:
        [row_hash] = DedupIndex(LEXICAL).describe([record]).hashes
        assert row_hash == content_hash(record["turns"])


def test_call_tokens_are_the_normalised_words() -> None:
    from transcript_foundry.contract.content_hash import normalise
    from transcript_foundry.dedup.transcript_words import call_tokens

    text = "Ｗell—I'd LIKE: 3½ refunds…  ok?! naïve café, İstanbul_x"
    assert call_tokens([{"speaker": "AGENT", "text": text}]) == ["spk_agent", *normalise(text).split()]
