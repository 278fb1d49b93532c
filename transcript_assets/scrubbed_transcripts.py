"""scrubbed_transcripts[shard]: the shard's raw transcripts with PHI / PII replaced, spans recorded.

Runs between generation and scoring, so the quality gate, the library, the ledger and every export only
ever see scrubbed text. Each newly generated transcript is scrubbed once and the scrubbed record replaces
the raw one in the ledger; a record that already carries ``phi`` (scrubbed by an earlier run) is passed
through unchanged.
"""

import time
from collections import Counter
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dagster import AssetExecutionContext, Config, MetadataValue

from resources.ledger import Ledger
from transcript_assets.shard_asset import shard_asset
from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.phi.planted import PlantedRecall

if TYPE_CHECKING:  # Presidio (and with it torch / transformers) loads only when a shard is scrubbed
    from transcript_foundry.phi.scrubber import PhiScrubber


class ScrubMode(StrEnum):
    by_domain = "by_domain"
    hipaa = "hipaa"
    pii = "pii"


class ScrubReplacement(StrEnum):
    surrogate = "surrogate"
    mask = "mask"


class ScrubbedTranscriptsConfig(Config):
    mode: ScrubMode = ScrubMode.by_domain
    """hipaa (every spoken Safe Harbor identifier), pii, or by_domain: hipaa for healthcare, pii otherwise."""
    replacement: ScrubReplacement = ScrubReplacement.surrogate
    """surrogate: consistent realistic values (Faker); mask: typed masks such as [NAME], [DOB]."""


def scrubber_for(config: ScrubbedTranscriptsConfig) -> "PhiScrubber":
    from transcript_foundry.phi.scrubber import PhiScrubber

    mode = None if config.mode == ScrubMode.by_domain else config.mode.value
    return PhiScrubber(mode=mode, replacement=config.replacement.value)  # type: ignore[arg-type]


@shard_asset(
    group_name="curation",
    kinds={"python"},
    description=(
        "Transcripts of one shard with PHI / PII found (Presidio on an offline spaCy model plus recognizers "
        "for MRNs, member and account numbers, dates, addresses, ZIPs, ages over 89, licence / plate / "
        "serial numbers and numbers said as words) and replaced by consistent surrogates or typed masks; "
        "the spans are recorded under `phi`. HIPAA mode for healthcare, PII mode otherwise."
    ),
)
def scrubbed_transcripts(
    context: AssetExecutionContext,
    config: ScrubbedTranscriptsConfig,
    raw_transcripts: list[dict[str, Any]],
    ledger: Ledger,
) -> list[dict[str, Any]]:
    scrubber = scrubber_for(config)
    slot_rows = {r.slot_id: r for r in ledger.shard_slots(context.partition_key)}
    records: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    planted = PlantedRecall()
    turns = 0
    already = 0
    started = time.perf_counter()
    for record in raw_transcripts:
        if record.get("phi") is not None:
            already += 1
            records.append(record)
            continue
        row = slot_rows.get(record["id"])
        facts = dict((row.plan or {}).get("facts") or {}) if row is not None else {}
        scrubbed = scrubber.scrub_record(record, planted=facts)
        Transcript.model_validate(scrubbed)
        slot_planted = planted.add(facts, record, scrubbed)
        if row is not None and row.state == "generated":
            # The raw text leaves the ledger: what scoring, the library and the exports read is scrubbed;
            # the slot keeps which planted identifiers the raw call said and which survived.
            ledger.record_scrubbed(row.slot_id, scrubbed, slot_planted)
        kinds.update(span["kind"] for span in scrubbed["phi"])
        turns += len(scrubbed["turns"])
        records.append(scrubbed)
    seconds = time.perf_counter() - started
    preview = Transcript.model_validate(records[0]).preview_markdown() if records else "_no transcript_"
    context.add_output_metadata(
        {
            "transcripts_scrubbed": len(records) - already,
            "already_scrubbed": already,
            "turns_scrubbed": turns,
            "entities_found": sum(kinds.values()),
            "entities_by_kind": MetadataValue.json(dict(sorted(kinds.items()))),
            "turns_per_second": MetadataValue.float(turns / seconds if seconds > 0 and turns else 0.0),
            "planted_phi": MetadataValue.json(planted.as_dict()),
            "planted_phi_recall": MetadataValue.float(planted.recall()),
            "mode": config.mode.value,
            "replacement": config.replacement.value,
            "preview": MetadataValue.md(preview),
        }
    )
    return records
