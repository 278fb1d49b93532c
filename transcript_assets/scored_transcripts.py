"""scored_transcripts[shard]: the shard's transcripts that pass the quality gate.

A transcript below the threshold is regenerated (same plan, new sampling) for up to ``max_rounds``
rounds; one still failing after that is recorded as rejected_quality with the gate's reasons. The pass
rate of every round is recorded in the asset metadata.
"""

from collections import Counter
from typing import Any

from dagster import AssetExecutionContext, Config, MetadataValue, asset

from resources.ledger import Ledger
from resources.node_pool import NodePool
from transcript_assets.call_stats import CallStats
from transcript_assets.conversation_plan import ConversationPlan
from transcript_assets.few_shot_prompt import exemplar_seed
from transcript_assets.generation_tags import GENERATION_OP_TAGS
from transcript_assets.partitions import shard_number, shard_partitions
from transcript_assets.phi.scrubber import PhiScrubber
from transcript_assets.quality_gate import QualityReport, assess
from transcript_assets.shard_context import load_shard_context
from transcript_assets.transcript import Transcript
from transcript_assets.transcript_generator import GeneratorSettings, TranscriptGenerator


class ScoredTranscriptsConfig(Config):
    max_rounds: int = 2
    """Regeneration rounds for transcripts below the quality threshold."""


def _reason_key(reason: str) -> str:
    return reason.split("(")[0].split(" below ")[0].strip()


@asset(
    partitions_def=shard_partitions,
    op_tags=GENERATION_OP_TAGS,
    group_name="curation",
    kinds={"python"},
    owners=["team:transcript-foundry"],
    io_manager_key="transcript_store",
    description=(
        "Transcripts of one shard that pass the quality gate (speaker alternation, loops and repetition, "
        "length bounds, domain terms, tone cues, opening and closing). Failures are regenerated for a "
        "bounded number of rounds, then recorded as rejected_quality with their reasons."
    ),
)
def scored_transcripts(
    context: AssetExecutionContext,
    config: ScoredTranscriptsConfig,
    scrubbed_transcripts: list[dict[str, Any]],
    ledger: Ledger,
    llm_pool: NodePool,
) -> list[dict[str, Any]]:
    shard = load_shard_context(ledger, context.partition_key)
    bounds = shard.spec.turn_bounds
    threshold = shard.spec.quality_threshold
    slot_rows = {r.slot_id: r for r in ledger.shard_slots(shard.shard_key)}

    passed: dict[str, dict[str, Any]] = {}
    already = 0
    to_score: dict[str, Transcript] = {}
    for record in scrubbed_transcripts:
        row = slot_rows[record["id"]]
        if row.state in ("passed", "accepted", "duplicate"):
            already += 1
            if row.state != "duplicate":
                passed[row.slot_id] = row.transcript or record
        elif row.state == "generated":
            to_score[row.slot_id] = Transcript.model_validate(record)

    reports: dict[str, QualityReport] = {}
    rounds: list[dict[str, Any]] = []
    reasons: Counter[str] = Counter()
    stats = CallStats()
    generator = TranscriptGenerator(
        llm_pool, shard.pack, settings=GeneratorSettings(max_attempts=1), stats=stats
    )
    attempts = {slot_id: slot_rows[slot_id].attempts for slot_id in to_score}
    for round_ in range(config.max_rounds + 1):
        failing: list[str] = []
        for slot_id, transcript in to_score.items():
            report = assess(transcript, shard.pack, bounds, threshold)
            reports[slot_id] = report
            transcript.quality = report.as_dict()
            if report.passed:
                ledger.record_passed(slot_id, transcript.to_record(), report.as_dict(), attempts[slot_id])
                passed[slot_id] = transcript.to_record()
            else:
                failing.append(slot_id)
                reasons.update(_reason_key(r) for r in report.reasons)
        rounds.append(
            {
                "round": round_,
                "scored": len(to_score),
                "passed": len(to_score) - len(failing),
                "failed": len(failing),
            }
        )
        if not failing or round_ == config.max_rounds:
            for slot_id in failing:
                report = reports[slot_id]
                ledger.record_rejected(
                    slot_id, "; ".join(report.reasons), report.as_dict(), to_score[slot_id].to_record()
                )
            break
        plans = [ConversationPlan.model_validate(slot_rows[s].plan) for s in failing]
        outcomes = generator.generate(
            plans,
            exemplar_seed=exemplar_seed(shard.request.seed, shard_number(shard.shard_key)),
            round_=round_ + 1,
        )
        # A regeneration that fails keeps the earlier transcript, which stays rejected.
        kept = {s: to_score[s] for s in failing}
        for outcome in outcomes:
            attempts[outcome.slot_id] += outcome.attempts
            if outcome.transcript is not None:
                # A regenerated transcript is scrubbed like the first one before it is scored.
                scrubbed = PhiScrubber().scrub_record(outcome.transcript.to_record())
                kept[outcome.slot_id] = Transcript.model_validate(scrubbed)
        to_score = kept

    scored_total = sum(r["scored"] for r in rounds[:1])
    first_pass = rounds[0]["passed"] if rounds else 0
    records = list(passed.values())
    preview = (
        Transcript.model_validate(records[0]).preview_markdown() if records else "_no transcript passed_"
    )
    overall = [r.overall for r in reports.values()]
    context.add_output_metadata(
        {
            "request_id": shard.request.request_id,
            "passed": len(records),
            "scored_this_run": scored_total,
            "already_scored": already,
            "first_round_pass_rate": MetadataValue.float(first_pass / scored_total if scored_total else 1.0),
            "final_pass_rate": MetadataValue.float(
                (len(records) - already) / scored_total if scored_total else 1.0
            ),
            "rounds": MetadataValue.json(rounds),
            "failure_reasons": MetadataValue.json(dict(reasons.most_common())),
            "mean_overall_score": MetadataValue.float(sum(overall) / len(overall) if overall else 0.0),
            "regeneration_output_tokens": stats.output_tokens,
            "preview": MetadataValue.md(preview),
        }
    )
    return records
