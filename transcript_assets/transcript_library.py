"""dedup_index and transcript_library: every accepted transcript of every request, duplicates removed.

Four rules, cheapest first (transcript_foundry/dedup/, docs/dedup.md): exact (normalised content hash),
minhash (MinHash LSH on word 3-gram shingles), flow (the speaker/act skeleton plus a content-word guard) and
semantic (cosine of all-MiniLM-L6-v2 call embeddings). Incremental: only transcripts that passed since the
last materialization are described, embedded and compared with the stored index (``dedup_index``, under
``$TRANSCRIPTS_HOME/store/dedup_index/``); the index grows by a segment per run and nothing already in it is
recomputed. The first transcript of a duplicate group (oldest request, lowest slot) is kept; each later one
is recorded in the ledger as ``duplicate`` with the rule that fired, its similarity and the kept id.
"""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetOut, Config, MetadataValue, Output, multi_asset

from resources.ledger import Ledger
from transcript_assets.scored_transcripts import scored_transcripts
from transcript_assets.shard_asset import OWNERS
from transcript_foundry.contract.content_hash import content_hash
from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.dedup.call_embeddings import Embedder, call_embedder
from transcript_foundry.dedup.dedup_config import THRESHOLD_SETTINGS, DedupConfig
from transcript_foundry.dedup.dedup_decision import dropped_by_rule
from transcript_foundry.dedup.dedup_index import DedupIndex
from transcript_foundry.dedup.index_store import IndexLayoutChanged, clear_index, load_index, save_rows
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.store import SettingsStore
from transcript_foundry.state.ledger import SlotRow


class LibraryConfig(Config, DedupConfig):
    """The asset's run config: the library's dedup settings plus where the index lives."""

    index_dir: str | None = None
    """Where the dedup index lives; default ``$TRANSCRIPTS_HOME/store/dedup_index``."""
    minhash_threshold: float | None = None  # type: ignore[assignment]
    """Unset: the ``dedup.minhash_threshold`` setting, read at each run."""
    flow_content_threshold: float | None = None  # type: ignore[assignment]
    """Unset: the ``dedup.flow_content_threshold`` setting, read at each run."""
    semantic_threshold: float | None = None  # type: ignore[assignment]
    """Unset: the ``dedup.semantic_threshold`` setting, read at each run."""


def library_dedup_config(config: LibraryConfig, engine: Any) -> DedupConfig:
    """The run's dedup config: the run config's values, thresholds it leaves unset from the ``dedup``
    settings as they are now (hot reload per run)."""
    fields = {name: getattr(config, name) for name in DedupConfig.model_fields}
    settings = SettingsStore(engine).load().settings.dedup
    for name in THRESHOLD_SETTINGS:
        if fields[name] is None:
            fields[name] = getattr(settings, name)
    return DedupConfig(**fields)


def _records(slots: list[SlotRow]) -> list[dict[str, Any]]:
    return [s.transcript for s in slots if s.transcript is not None]


def _open_index(
    config: DedupConfig, folder: Path, accepted: list[SlotRow], embedder: Embedder, model: str
) -> tuple[DedupIndex, int, str | None, float]:
    """The stored index, brought in line with the ledger's accepted slots.

    Returns the index, how many accepted transcripts had to be added to it, why (None when none), and the
    seconds the stored index took to load.
    """
    use_model = "semantic" in config.rules
    started = time.perf_counter()
    why = None
    try:
        index = load_index(folder, config, embedder if use_model else None, model)
    except IndexLayoutChanged as exc:
        why = f"{exc}: rebuilt from the ledger's accepted transcripts"
        clear_index(folder)
        index = DedupIndex(config, embedder if use_model else None)
    load_seconds = time.perf_counter() - started
    # Accepted slots the index lacks (a library from before the index existed, a rebuild, a lost segment):
    # described and appended as they are, in library order; they were accepted already.
    missing = [s for s in accepted if s.slot_id not in index]
    if missing:
        start = len(index)
        index.append_kept(_records(missing))
        save_rows(folder, index, start, model)
        why = why or f"{len(missing)} accepted transcript(s) were not in the index yet: added"
    return index, len(missing), why, load_seconds


@multi_asset(
    outs={
        "dedup_index": AssetOut(
            description=(
                "The persisted dedup index of the library: content hashes, MinHash signatures (word 3-grams "
                "and content words), flow skeletons and call embeddings, as Parquet/NumPy segments under "
                "$TRANSCRIPTS_HOME/store/dedup_index/. Its value is the index manifest."
            ),
            group_name="curation",
            kinds={"numpy", "parquet"},
            owners=OWNERS,
        ),
        "transcript_library": AssetOut(
            description=(
                "The de-duplicated library of accepted transcripts across all shards and requests (exact, "
                "MinHash LSH, conversation-flow and semantic duplicates removed). Newly passed transcripts are "
                "compared with the stored dedup index and added incrementally."
            ),
            group_name="curation",
            kinds={"python"},
            owners=OWNERS,
            io_manager_key="transcript_store",
        ),
    },
    deps=[scored_transcripts],
)
def transcript_library(
    context: AssetExecutionContext, config: LibraryConfig, ledger: Ledger
) -> Iterator[Output[Any]]:
    started = time.perf_counter()
    folder = Path(config.index_dir) if config.index_dir else project_paths().store_dir / "dedup_index"
    config = library_dedup_config(config, ledger.engine)  # type: ignore[assignment]
    accepted_before = ledger.accepted_slots()
    embedder, model = call_embedder(config.embedding_model_path, config.embedding_batch_size)
    index, backfilled, rebuilt, load_seconds = _open_index(config, folder, accepted_before, embedder, model)

    candidates = ledger.passed_slots()
    seq = ledger.next_library_seq()
    # Recovery: slots whose rows reached the index but whose ledger update did not (a crash in between).
    recovered = [s for s in candidates if s.slot_id in index]
    added_now = list(recovered)
    for slot in recovered:
        assert slot.transcript is not None
        ledger.record_accepted(slot.slot_id, content_hash(slot.transcript["turns"]), seq)
        seq += 1
    todo = [s for s in candidates if s.slot_id not in index]
    decisions = []
    for start in range(0, len(todo), config.batch_size):
        batch = todo[start : start + config.batch_size]
        first_row = len(index)
        made = index.add_batch(_records(batch))
        save_rows(folder, index, first_row, model)  # the index first: a crash leaves a recoverable state
        for slot, decision in zip(batch, made, strict=True):
            if decision.kept:
                ledger.record_accepted(slot.slot_id, decision.content_hash, seq)
                added_now.append(slot)
                seq += 1
            else:
                assert decision.rule and decision.duplicate_of and decision.similarity is not None
                ledger.record_duplicate(
                    slot.slot_id,
                    decision.content_hash,
                    decision.duplicate_of,
                    decision.rule,
                    decision.similarity,
                )
        decisions.extend(made)

    library = _records(accepted_before) + _records(added_now)  # library order (library_seq)
    dropped = dropped_by_rule(decisions, config.rules)
    seconds = time.perf_counter() - started
    added = len(added_now)
    preview = Transcript.model_validate(library[-1]).preview_markdown() if library else "_empty library_"
    thresholds = {rule: config.threshold(rule) for rule in config.rules}
    manifest = {
        "folder": str(folder),
        "rows": len(index),
        "rules": list(config.rules),
        "thresholds": thresholds,
        "embedding_model": model if index.uses_semantic else None,
    }
    yield Output(
        manifest,
        output_name="dedup_index",
        metadata={
            "folder": MetadataValue.path(str(folder)),
            "rows": len(index),
            "segments": len(list(folder.glob("seg-*"))),
            "rules": MetadataValue.json(list(config.rules)),
            "thresholds": MetadataValue.json(thresholds),
            "backfilled": backfilled,
            "rebuilt": rebuilt or "no",
            "load_seconds": MetadataValue.float(round(load_seconds, 3)),
        },
    )
    yield Output(
        library,
        output_name="transcript_library",
        metadata={
            "library_size": len(library),
            "compared": len(todo),
            "added": added,
            "duplicates_dropped": sum(dropped.values()),
            "dropped_by_rule": MetadataValue.json(dropped),
            "embedded": index.embedded,
            "dedup_seconds": MetadataValue.float(round(seconds, 3)),
            "requests": len({t["request_id"] for t in library}),
            "preview": MetadataValue.md(preview),
        },
    )
