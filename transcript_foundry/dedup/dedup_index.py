"""The dedup index: every kept transcript's hash, MinHash signatures, flow skeleton and embedding, and the
rules that compare a new batch of transcripts against it.

``add_batch`` decides, in input order, for each transcript of a batch whether it duplicates a transcript
already kept (in the index, or earlier in the same batch), trying the rules cheapest first: exact, minhash,
flow, semantic. The first rule that fires drops the transcript and names the kept transcript it matched
best. Kept transcripts are appended to the index; nothing already indexed is recomputed. Persistence:
``transcript_foundry.dedup.index_store``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from transcript_foundry.dedup.call_embeddings import Embedder
from transcript_foundry.dedup.dedup_config import DedupConfig
from transcript_foundry.dedup.dedup_decision import DedupDecision
from transcript_foundry.dedup.flow_skeleton import skeleton, within_edits
from transcript_foundry.dedup.growing_rows import GrowingRows
from transcript_foundry.dedup.lsh_bands import Banding, BandLookup
from transcript_foundry.dedup.minhash_signatures import signatures
from transcript_foundry.dedup.transcript_words import (
    call_tokens,
    content_word_hashes,
    shingle_hashes,
    tokens_content_hash,
)
from transcript_foundry.dedup.vector_search import top1


@dataclass
class IndexRows:
    """Rows of the index (or of a batch): one per kept transcript, in library order."""

    ids: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    skeletons: list[str] = field(default_factory=list)
    text_signatures: np.ndarray | None = None  # (n, num_perm) uint32, word n-gram shingles
    content_signatures: np.ndarray | None = None  # (n, num_perm) uint32, content-word sets
    embeddings: np.ndarray | None = None  # (n, dim) float32, unit length

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class _Match:
    similarity: float
    row: int  # index row (>= 0) or -(batch position + 1)


def _tiered(lookups: list[tuple[int, np.ndarray, BandLookup]], offset: int, keys: np.ndarray) -> None:
    """Add a lookup for rows from ``offset``; merge equal-or-smaller neighbours, like a binary counter, so each
    row is re-sorted O(log n) times and a query visits O(log n) lookups."""
    lookups.append((offset, keys, BandLookup(keys)))
    while len(lookups) >= 2 and lookups[-1][2].size >= lookups[-2][2].size:
        (start, first, _), (_, second, _) = lookups[-2], lookups[-1]
        merged = np.concatenate([first, second])
        lookups[-2:] = [(start, merged, BandLookup(merged))]


class DedupIndex:
    def __init__(self, config: DedupConfig, embedder: Embedder | None = None):
        if "semantic" in config.rules and embedder is None:
            raise ValueError(
                "the semantic rule needs an embedder (see transcript_foundry.dedup.call_embeddings)"
            )
        self.config = config
        self.embedder = embedder
        self.text_banding = Banding.for_threshold(config.minhash_threshold, config.minhash_num_perm)
        self.content_banding = Banding.for_threshold(config.flow_content_threshold, config.minhash_num_perm)
        self._ids: list[str] = []
        self._hashes: list[str] = []
        self._skeletons: list[str] = []
        self._text_sigs = GrowingRows()
        self._content_sigs = GrowingRows()
        self._embeddings = GrowingRows()
        self._row_of_hash: dict[str, int] = {}
        self._row_of_id: dict[str, int] = {}
        self._text_lookups: list[tuple[int, np.ndarray, BandLookup]] = []
        self._content_lookups: list[tuple[int, np.ndarray, BandLookup]] = []
        self.embedded = 0  # transcripts embedded by this index object (the semantic rule's main cost)

    # ---- contents -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, transcript_id: str) -> bool:
        return transcript_id in self._row_of_id

    @property
    def uses_minhash(self) -> bool:
        return "minhash" in self.config.rules

    @property
    def uses_flow(self) -> bool:
        return "flow" in self.config.rules

    @property
    def uses_semantic(self) -> bool:
        return "semantic" in self.config.rules

    def rows(self, start: int = 0) -> IndexRows:
        """The index rows from ``start`` on (what a new segment of the stored index holds)."""

        def cat(parts: GrowingRows) -> np.ndarray | None:
            return None if parts.view is None else parts.view[start:].copy()

        return IndexRows(
            ids=self._ids[start:],
            hashes=self._hashes[start:],
            skeletons=self._skeletons[start:],
            text_signatures=cat(self._text_sigs),
            content_signatures=cat(self._content_sigs),
            embeddings=cat(self._embeddings),
        )

    def extend(self, rows: IndexRows) -> None:
        """Append rows already decided as kept (loading a stored index, or rows known to be kept)."""
        if not len(rows):
            return
        offset = len(self._ids)
        for i, (tid, digest) in enumerate(zip(rows.ids, rows.hashes, strict=True)):
            self._row_of_id[tid] = offset + i
            self._row_of_hash.setdefault(digest, offset + i)
        self._ids.extend(rows.ids)
        self._hashes.extend(rows.hashes)
        self._skeletons.extend(rows.skeletons)
        if self.uses_minhash:
            assert rows.text_signatures is not None, "minhash rule: rows carry text signatures"
            self._text_sigs.append(rows.text_signatures)
            _tiered(self._text_lookups, offset, self.text_banding.keys(rows.text_signatures))
        if self.uses_flow:
            assert rows.content_signatures is not None, "flow rule: rows carry content signatures"
            self._content_sigs.append(rows.content_signatures)
            _tiered(self._content_lookups, offset, self.content_banding.keys(rows.content_signatures))
        if self.uses_semantic:
            assert rows.embeddings is not None, "semantic rule: rows carry embeddings"
            self._embeddings.append(rows.embeddings.astype(np.float32, copy=False))

    def append_kept(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Append transcripts already known to be kept (accepted earlier), without comparing them."""
        rows = self.describe(records)
        if self.uses_semantic and records:
            rows.embeddings = self.embed(records)
        self.extend(rows)

    def describe(self, records: Sequence[Mapping[str, Any]]) -> IndexRows:
        """Hashes, skeletons and signatures of ``records`` (embeddings are computed lazily, when needed)."""
        turns = [r["turns"] for r in records]
        tokens = [call_tokens(t) for t in turns]
        num_perm = self.config.minhash_num_perm
        size = self.config.minhash_shingle_words
        return IndexRows(
            ids=[str(r["id"]) for r in records],
            hashes=[tokens_content_hash(t, w) for t, w in zip(turns, tokens, strict=True)],
            skeletons=[skeleton(t) for t in turns],
            text_signatures=(
                signatures([shingle_hashes(t, size) for t in tokens], num_perm) if self.uses_minhash else None
            ),
            content_signatures=(
                signatures([content_word_hashes(t) for t in tokens], num_perm) if self.uses_flow else None
            ),
        )

    # ---- matching ---------------------------------------------------------------------------------------
    def _lsh_matches(
        self,
        batch_sigs: np.ndarray,
        banding: Banding,
        lookups: list[tuple[int, np.ndarray, BandLookup]],
        library_sigs: GrowingRows,
        threshold: float,
        accept: Callable[[int, int], bool],
    ) -> list[list[_Match]]:
        """Per batch row, the index rows and earlier batch rows whose estimated Jaccard reaches threshold."""
        matches: list[list[_Match]] = [[] for _ in range(batch_sigs.shape[0])]
        batch_keys = banding.keys(batch_sigs)
        library = library_sigs.view
        sources = [(offset, lookup, library) for offset, _, lookup in lookups]
        sources.append((None, BandLookup(batch_keys), batch_sigs))
        for offset, lookup, against in sources:
            queries, rows = lookup.candidate_pairs(batch_keys)
            if offset is None:  # the batch against itself: only earlier rows
                keep = rows < queries
                queries, rows = queries[keep], rows[keep]
            else:
                rows = rows + offset
            if not len(queries) or against is None:
                continue
            sims = (batch_sigs[queries] == against[rows]).mean(axis=1)
            close = sims >= threshold
            queries, rows, sims = queries[close], rows[close], sims[close]
            for q, r, s in zip(queries.tolist(), rows.tolist(), sims.tolist(), strict=True):
                target = r if offset is not None else -(r + 1)
                if accept(q, target):
                    matches[q].append(_Match(s, target))
        return matches

    def add_batch(self, records: Sequence[Mapping[str, Any]]) -> list[DedupDecision]:
        """Decide every record of the batch in order; append the kept ones to the index."""
        config = self.config
        batch = self.describe(records)
        n = len(batch)
        duplicate_ids = {tid for tid in batch.ids if tid in self._row_of_id}
        if duplicate_ids or len(set(batch.ids)) != n:
            repeated = sorted(duplicate_ids or {t for t in batch.ids if batch.ids.count(t) > 1})
            raise ValueError(f"id: transcript ids must be unique; repeated: {', '.join(repeated[:5])}")

        def skeleton_of(row: int) -> str:
            return self._skeletons[row] if row >= 0 else batch.skeletons[-row - 1]

        minhash = (
            self._lsh_matches(
                batch.text_signatures,
                self.text_banding,
                self._text_lookups,
                self._text_sigs,
                config.minhash_threshold,
                lambda q, r: True,
            )
            if batch.text_signatures is not None
            else [[] for _ in range(n)]
        )
        flow = (
            self._lsh_matches(
                batch.content_signatures,
                self.content_banding,
                self._content_lookups,
                self._content_sigs,
                config.flow_content_threshold,
                lambda q, r: within_edits(batch.skeletons[q], skeleton_of(r), config.flow_max_skeleton_edits),
            )
            if batch.content_signatures is not None
            else [[] for _ in range(n)]
        )
        first_in_batch: dict[str, int] = {}
        for i, digest in enumerate(batch.hashes):
            first_in_batch.setdefault(digest, i)
        cheap_hit = [
            ("exact" in config.rules and (h in self._row_of_hash or first_in_batch[h] < i))
            or bool(minhash[i])
            or bool(flow[i])
            for i, h in enumerate(batch.hashes)
        ]
        semantic = _SemanticBatch(self, records)
        if self.uses_semantic:  # embed the likely survivors in one go; the rare rest on demand
            semantic.prepare([i for i in range(n) if not cheap_hit[i]])

        kept = _KeptInBatch()
        decisions: list[DedupDecision] = []
        for i in range(n):
            decision = self._decide(i, batch, minhash[i], flow[i], kept, semantic)
            decisions.append(decision)
            if decision.kept:
                kept.add(i, batch.hashes[i])
                if self.uses_semantic:
                    semantic.keep(i)

        self.extend(self._select(batch, kept.positions, semantic.vectors))
        return decisions

    def _decide(
        self,
        i: int,
        batch: IndexRows,
        minhash: list[_Match],
        flow: list[_Match],
        kept: _KeptInBatch,
        semantic: _SemanticBatch,
    ) -> DedupDecision:
        def name(row: int) -> str:
            return self._ids[row] if row >= 0 else batch.ids[-row - 1]

        def best(matches: list[_Match]) -> _Match | None:
            usable = [m for m in matches if m.row >= 0 or (-m.row - 1) in kept.members]
            return max(usable, key=lambda m: (m.similarity, -abs(m.row))) if usable else None

        for rule in self.config.rules:
            hit: _Match | None = None
            if rule == "exact":
                digest = batch.hashes[i]
                if digest in self._row_of_hash:
                    hit = _Match(1.0, self._row_of_hash[digest])
                elif digest in kept.by_hash:
                    hit = _Match(1.0, -(kept.by_hash[digest] + 1))
            elif rule == "minhash":
                hit = best(minhash)
            elif rule == "flow":
                hit = best(flow)
            elif rule == "semantic":
                hit = semantic.match(i)
            if hit is not None:
                similarity = round(float(hit.similarity), 4)
                return DedupDecision(batch.ids[i], rule, similarity, name(hit.row), batch.hashes[i])
        return DedupDecision(batch.ids[i], content_hash=batch.hashes[i])

    def library_top1(self, queries: np.ndarray) -> list[_Match | None]:
        """Each query's most similar stored embedding (blocked matrix products, vector_search.top1)."""
        matrix = self._embeddings.view
        if matrix is None or not len(matrix):
            return [None] * queries.shape[0]
        rows, sims = top1(queries, matrix)
        return [_Match(s, r) for r, s in zip(rows.tolist(), sims.tolist(), strict=True)]

    def embed(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        assert self.embedder is not None
        self.embedded += len(records)
        return self.embedder([r["turns"] for r in records])

    def _select(self, batch: IndexRows, positions: list[int], vectors: dict[int, np.ndarray]) -> IndexRows:
        pick = np.asarray(positions, dtype=np.int64)
        return IndexRows(
            ids=[batch.ids[p] for p in positions],
            hashes=[batch.hashes[p] for p in positions],
            skeletons=[batch.skeletons[p] for p in positions],
            text_signatures=batch.text_signatures[pick] if batch.text_signatures is not None else None,
            content_signatures=batch.content_signatures[pick]
            if batch.content_signatures is not None
            else None,
            embeddings=(
                np.stack([vectors[p] for p in positions]).astype(np.float32)
                if self.uses_semantic and positions
                else None
            ),
        )


class _KeptInBatch:
    """The batch positions kept so far, and the first kept position of each content hash."""

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.members: set[int] = set()
        self.by_hash: dict[str, int] = {}

    def add(self, position: int, digest: str) -> None:
        self.positions.append(position)
        self.members.add(position)
        self.by_hash.setdefault(digest, position)


class _SemanticBatch:
    """Embeddings of a batch and their best stored match, computed in bulk, plus on demand for the rest."""

    def __init__(self, index: DedupIndex, records: Sequence[Mapping[str, Any]]):
        self.index = index
        self.records = records
        self.vectors: dict[int, np.ndarray] = {}
        self.library_best: dict[int, _Match | None] = {}
        self._kept_positions: list[int] = []
        self._kept_matrix: np.ndarray | None = None

    def prepare(self, positions: list[int]) -> None:
        todo = [p for p in positions if p not in self.vectors]
        if not todo:
            return
        vectors = self.index.embed([self.records[p] for p in todo])
        for p, v, best in zip(todo, vectors, self.index.library_top1(vectors), strict=True):
            self.vectors[p] = v
            self.library_best[p] = best

    def keep(self, i: int) -> None:
        self.prepare([i])
        vector = self.vectors[i]
        count = len(self._kept_positions)
        if self._kept_matrix is None or count == self._kept_matrix.shape[0]:
            grown = np.zeros((max(64, 2 * count), vector.shape[0]), dtype=np.float32)
            if self._kept_matrix is not None:
                grown[:count] = self._kept_matrix
            self._kept_matrix = grown
        self._kept_matrix[count] = vector
        self._kept_positions.append(i)

    def match(self, i: int) -> _Match | None:
        self.prepare([i])
        candidates = [m for m in (self.library_best[i],) if m is not None]
        if self._kept_positions and self._kept_matrix is not None:
            sims = self._kept_matrix[: len(self._kept_positions)] @ self.vectors[i]
            j = int(sims.argmax())
            candidates.append(_Match(float(sims[j]), -(self._kept_positions[j] + 1)))
        hits = [c for c in candidates if c.similarity >= self.index.config.semantic_threshold]
        return max(hits, key=lambda m: m.similarity) if hits else None
