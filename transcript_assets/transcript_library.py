"""transcript_library: every accepted transcript of every request, exact duplicates removed.

Incremental: only transcripts that passed since the last materialization are hashed and compared with
the hashes already in the library (an indexed ledger lookup), never the whole library again. The first
transcript of a duplicate group (oldest request, lowest slot) is kept; each later one is recorded as
``duplicate`` with the id it duplicates.
"""

from typing import Any

from dagster import AssetExecutionContext, MetadataValue, asset

from resources.ledger import Ledger
from transcript_assets.content_hash import content_hash
from transcript_assets.scored_transcripts import scored_transcripts
from transcript_assets.transcript import Transcript


@asset(
    deps=[scored_transcripts],
    group_name="curation",
    kinds={"python"},
    owners=["team:transcript-foundry"],
    io_manager_key="transcript_store",
    description=(
        "The de-duplicated library of accepted transcripts across all shards and requests (exact duplicates "
        "by a normalised content hash). Newly passed transcripts are added incrementally."
    ),
)
def transcript_library(context: AssetExecutionContext, ledger: Ledger) -> list[dict[str, Any]]:
    candidates = ledger.passed_slots()
    seq = ledger.next_library_seq()
    seen_now: dict[str, str] = {}
    accepted = duplicates = 0
    for slot in candidates:
        assert slot.transcript is not None, "a passed slot always carries its transcript"
        digest = content_hash(slot.transcript["turns"])
        kept = seen_now.get(digest) or ledger.accepted_with_hash(digest)
        if kept:
            ledger.record_duplicate(slot.slot_id, digest, kept)
            duplicates += 1
            continue
        ledger.record_accepted(slot.slot_id, digest, seq)
        seen_now[digest] = slot.slot_id
        seq += 1
        accepted += 1
    library = [s.transcript for s in ledger.accepted_slots() if s.transcript is not None]
    preview = Transcript.model_validate(library[-1]).preview_markdown() if library else "_empty library_"
    context.add_output_metadata(
        {
            "library_size": len(library),
            "added": accepted,
            "duplicates_dropped": duplicates,
            "requests": len({t["request_id"] for t in library}),
            "preview": MetadataValue.md(preview),
        }
    )
    return library
