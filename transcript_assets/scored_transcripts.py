"""scored_transcripts[shard]: the shard's transcripts that pass the quality discriminator.

The discriminator (model-free checks, plus the LLM judge where configured) scores every generated
transcript; the feedback loop (feedback_loop.py) regenerates the failures with their critique for up to
``max_rounds`` rounds. A transcript still failing after that is recorded as rejected_quality with its
reasons. Every round's pass rate, reasons and judge outcomes go to the ledger (``quality_rounds``) and
the asset metadata; two asset checks hold the shard to a pass-rate floor and validate its table.
"""

from typing import Any

from dagster import AssetExecutionContext, Config, MetadataValue, Output
from sqlalchemy import Engine

from resources.ledger import Ledger
from resources.node_pool import NodePool
from transcript_assets.generation_tags import GENERATION_OP_TAGS
from transcript_assets.quality_checks import (
    DEFAULT_PASS_RATE_FLOOR,
    DEFAULT_PASS_RATE_MIN_SCORED,
    check_specs,
    pass_rate_result,
    transcript_table_result,
)
from transcript_assets.shard_asset import shard_asset
from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.domains.domain_pack import DomainPack, load_domain_packs
from transcript_foundry.generation.call_stats import CallStats
from transcript_foundry.generation.conversation_plan import ConversationPlan
from transcript_foundry.generation.few_shot_prompt import exemplar_seed
from transcript_foundry.generation.generator import GeneratorSettings, TranscriptGenerator
from transcript_foundry.phi.planted import final_slot_record
from transcript_foundry.quality.discriminator import (
    Discriminator,
    DiscriminatorSettings,
    judge_settings_from_env,
    resolve_judge_node,
)
from transcript_foundry.quality.feedback_loop import FeedbackLoop, signal_summary
from transcript_foundry.quality.llm_judge import LLMJudge
from transcript_foundry.request.lifecycle import shard_number
from transcript_foundry.request.shard_context import load_shard_context
from transcript_foundry.settings.store import SettingsStore


class ScoredTranscriptsConfig(Config):
    max_rounds: int = 2
    """Regeneration rounds (with the critique fed back) for transcripts below the quality threshold."""
    use_critique: bool = True
    """False: regenerate with new sampling only (the baseline the critique is measured against)."""
    weights: dict[str, float] | None = None
    """Weights of naturalness, coherence, domain_accuracy and emotional_consistency in ``overall``; unset:
    the ``quality.*_weight`` settings, read at each run."""
    judge: str | None = None
    """auto | on | off; unset: TRANSCRIPTS_JUDGE, else auto (on when a chat node or judge_node is there)."""
    judge_node: str | None = None
    """The node that judges; unset: TRANSCRIPTS_JUDGE_NODE, else the first chat-capable node."""
    judge_weight: float = 0.5
    """Share of the judge in each dimension's score when it answers."""
    pass_rate_floor: float = DEFAULT_PASS_RATE_FLOOR
    """The pass_rate_floor check fails the shard below this pass rate."""
    pass_rate_min_scored: int = DEFAULT_PASS_RATE_MIN_SCORED
    """A shard that scored fewer transcripts than this (a small top-up) is not held to the floor."""


def quality_weights(config: ScoredTranscriptsConfig, engine: Engine | None) -> dict[str, float]:
    """The run config's weights, else the ``quality`` settings as they are now (hot reload per run)."""
    if config.weights is not None:
        return dict(config.weights)
    return SettingsStore(engine).load().settings.quality.weights()


def build_discriminator(
    config: ScoredTranscriptsConfig,
    llm_pool: NodePool,
    pack: DomainPack,
    bounds: tuple[int, int],
    threshold: float,
    weights: dict[str, float],
) -> Discriminator:
    """The shard's discriminator, with the judge the config and the pool call for (or none)."""
    mode, node = judge_settings_from_env(config.judge, config.judge_node)
    settings = DiscriminatorSettings(
        weights=weights, judge=mode, judge_node=node, judge_weight=config.judge_weight
    )
    judge_node = resolve_judge_node(llm_pool, settings.judge, settings.judge_node)
    judge = LLMJudge(llm_pool.backend(judge_node), load_domain_packs()) if judge_node else None
    return Discriminator(pack, bounds, threshold, settings, judge)


@shard_asset(
    group_name="curation",
    kinds={"python"},
    check_specs=check_specs("scored_transcripts"),
    op_tags=GENERATION_OP_TAGS,
    description=(
        "Transcripts of one shard that pass the quality discriminator (naturalness, coherence, domain "
        "accuracy, emotional consistency: model-free checks plus an LLM judge where configured). Failures "
        "are regenerated with their critique for a bounded number of rounds, then recorded as "
        "rejected_quality with their reasons."
    ),
)
def scored_transcripts(
    context: AssetExecutionContext,
    config: ScoredTranscriptsConfig,
    scrubbed_transcripts: list[dict[str, Any]],
    ledger: Ledger,
    llm_pool: NodePool,
):  # yields the Output, then the two asset check results
    shard = load_shard_context(ledger, context.partition_key)
    bounds = shard.spec.turn_bounds
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

    from transcript_foundry.phi.scrubber import PhiScrubber  # Presidio loads only when a shard is scored

    scrubber = PhiScrubber()
    facts = {s: dict(slot_rows[s].plan.get("facts") or {}) for s in to_score}
    raw_drafts: dict[str, list[dict[str, Any]]] = {s: [] for s in to_score}

    def scrub_draft(draft: Transcript) -> Transcript:
        """A regenerated draft is scrubbed like the first ones (told its plan's planted values) before it
        is scored; its raw text counts towards the slot's planted record."""
        record = draft.to_record()
        raw_drafts[record["id"]].append(record)
        return Transcript.model_validate(scrubber.scrub_record(record, planted=facts[record["id"]]))

    discriminator = build_discriminator(
        config,
        llm_pool,
        shard.pack,
        bounds,
        shard.spec.quality_threshold,
        quality_weights(config, ledger.engine),
    )
    stats = CallStats()
    generator = TranscriptGenerator(
        llm_pool, shard.pack, settings=GeneratorSettings(max_attempts=1), stats=stats
    )
    loop = FeedbackLoop(
        discriminator,
        generator,
        stats,
        max_rounds=config.max_rounds,
        use_critique=config.use_critique,
        # The shard's own exemplars: its few-shot prefix is still in the KV cache (the sampling seeds
        # differ per round).
        exemplar_seed=lambda round_: exemplar_seed(shard.request.seed, shard_number(shard.shard_key)),
        postprocess=scrub_draft,
    )
    plans = {s: ConversationPlan.model_validate(slot_rows[s].plan) for s in to_score}
    result = loop.run(to_score, plans, {s: slot_rows[s].attempts for s in to_score})

    for slot_id, transcript in result.passed.items():
        report = result.reports[slot_id]
        ledger.record_passed(slot_id, transcript.to_record(), report.as_dict(), result.attempts[slot_id])
        passed[slot_id] = transcript.to_record()
    for slot_id, transcript in result.rejected.items():
        report = result.reports[slot_id]
        ledger.record_rejected(slot_id, "; ".join(report.reasons), report.as_dict(), transcript.to_record())
    for slot_id, transcript in {**result.passed, **result.rejected}.items():
        if raw_drafts[slot_id]:
            final = final_slot_record(
                slot_rows[slot_id].planted, raw_drafts[slot_id], transcript.to_record(), facts[slot_id]
            )
            ledger.record_planted(slot_id, final)
    for record in result.rounds:
        ledger.add_quality_round(
            run_id=context.run.run_id,
            shard_key=shard.shard_key,
            request_id=shard.request.request_id,
            **record.as_dict(),
        )

    records = list(passed.values())
    preview = (
        Transcript.model_validate(records[0]).preview_markdown() if records else "_no transcript passed_"
    )
    overall = [r.overall for r in result.reports.values()]
    scored_total = len(to_score)
    judge_node = discriminator.judge.backend.info.node_id if discriminator.judge else None
    yield Output(
        records,
        metadata={
            "request_id": shard.request.request_id,
            "passed": len(records),
            "scored_this_run": scored_total,
            "already_scored": already,
            "first_round_pass_rate": MetadataValue.float(
                result.rounds[0].pass_rate if result.rounds else 1.0
            ),
            "final_pass_rate": MetadataValue.float(result.final_yield),
            "final_yield": MetadataValue.float(result.final_yield),
            "rounds": MetadataValue.json([r.as_dict() for r in result.rounds]),
            "failure_reasons": MetadataValue.json(result.rounds[-1].reasons if result.rounds else {}),
            "critique_examples": MetadataValue.json({s: f[-1] for s, f in list(result.feedback.items())[:3]}),
            "judge": MetadataValue.json(
                {
                    "node": judge_node,
                    "mode": discriminator.judge.mode if discriminator.judge else "off",
                    "outcomes": dict(discriminator.judge_outcomes),
                    "output_tokens": discriminator.judge_tokens,
                }
            ),
            "mean_overall_score": MetadataValue.float(sum(overall) / len(overall) if overall else 0.0),
            "discriminator": MetadataValue.json(signal_summary(list(result.reports.values()))),
            "regeneration_output_tokens": stats.output_tokens,
            "preview": MetadataValue.md(preview),
        },
    )
    yield pass_rate_result(
        len(result.passed), scored_total, config.pass_rate_floor, config.pass_rate_min_scored
    )
    yield transcript_table_result(records, bounds)
