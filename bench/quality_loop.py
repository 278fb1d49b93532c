"""Benchmark: the quality loop with the critique fed back, against regeneration with new sampling only.

    .venv/bin/python bench/quality_loop.py [--count 20] [--threshold 0.9] [--rounds 2] [--judge-calls 6]

Both arms start from the same first drafts (written once on the embedded model) and run the same number
of rounds with the same discriminator; the baseline regenerates a failing transcript whole with new
sampling, the critique arm rewrites only the weak turns with guidance in their beat labels. Printed per
round: the cumulative pass rate (the yield) of both arms, their ratio, and the tokens each arm spent.

Then the base-model judge: the embedded model rates ``--judge-calls`` domain-pack exemplars and degraded
copies (looped, truncated, tone-flipped, off-domain) with the few-shot digit form; printed are how often
it ranks the clean call above its degraded copy (the model-free scorer does so in every pair), its ties,
and how often it answered at all. Ends with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine_description import describe_machine  # noqa: E402  (bench/, the script's folder)


def loop_arms(count: int, threshold: float, rounds: int, domain: str, tone: str) -> dict[str, Any]:
    from resources.node_pool import NodePool
    from transcript_foundry.contract.job_spec import JobSpec
    from transcript_foundry.domains.domain_pack import load_domain_packs
    from transcript_foundry.generation.call_stats import CallStats
    from transcript_foundry.generation.conversation_plan import plan_conversation
    from transcript_foundry.generation.generator import GeneratorSettings, TranscriptGenerator
    from transcript_foundry.quality.discriminator import Discriminator
    from transcript_foundry.quality.feedback_loop import FeedbackLoop

    pack = load_domain_packs()[domain]
    spec = JobSpec(count=count, domain=domain, emotional_tone=tone, seed=11)  # type: ignore[arg-type]
    plans = {p.slot_id: p for p in (plan_conversation(spec, pack, "rbench", 11, i) for i in range(count))}
    pool = NodePool()
    stats = CallStats()
    generator = TranscriptGenerator(pool, pack, settings=GeneratorSettings(max_attempts=2), stats=stats)
    started = time.perf_counter()
    drafts = {
        o.slot_id: o.transcript for o in generator.generate(list(plans.values()), exemplar_seed=1) if o.ok
    }
    print(f"  ... {len(drafts)} first drafts in {time.perf_counter() - started:.0f} s", flush=True)
    result: dict[str, Any] = {
        "drafts": len(drafts),
        "draft_tokens": stats.output_tokens,
        "draft_seconds": round(time.perf_counter() - started, 1),
    }
    for arm, use_critique in (("baseline", False), ("critique", True)):
        arm_stats = CallStats()
        arm_generator = TranscriptGenerator(
            pool, pack, settings=GeneratorSettings(max_attempts=1), stats=arm_stats
        )
        loop = FeedbackLoop(
            Discriminator(pack, spec.turn_bounds, threshold),
            arm_generator,
            arm_stats,
            max_rounds=rounds,
            use_critique=use_critique,
            exemplar_seed=lambda r: 100 + r,
        )
        copies = {s: t.model_copy(deep=True) for s, t in drafts.items()}  # type: ignore[union-attr]
        t0 = time.perf_counter()
        out = loop.run(copies, plans)
        result[arm] = {
            "rounds": [r.as_dict() for r in out.rounds],
            "final_yield": out.final_yield,
            "output_tokens": arm_stats.output_tokens,
            "seconds": round(time.perf_counter() - t0, 1),
            "example_feedback": next(iter(out.feedback.values()), [""])[-1] if out.feedback else "",
        }
        print(f"  ... {arm} arm in {result[arm]['seconds']} s", flush=True)
    pool.close()
    return result


def judge_usefulness(calls: int) -> dict[str, Any]:
    from resources.node_pool import NodePool
    from transcript_foundry.domains.domain_pack import load_domain_packs
    from transcript_foundry.quality.degradations import DEGRADATIONS, degrade, exemplar_transcript
    from transcript_foundry.quality.gate import DEFAULT_WEIGHTS, weighted_overall
    from transcript_foundry.quality.llm_judge import LLMJudge

    packs = load_domain_packs()
    pool = NodePool()
    judge = LLMJudge(pool.candidates()[0], packs)
    cases = [(pack, i) for pack in packs.values() for i in range(len(pack.exemplars))][
        :: max(1, 25 // calls)
    ][:calls]
    wins = ties = losses = answered = asked = 0
    by_kind: dict[str, list[int]] = {k: [0, 0, 0] for k in DEGRADATIONS}
    digits: list[int] = []
    t0 = time.perf_counter()
    for pack, i in cases:
        clean = exemplar_transcript(pack, i)
        good = judge.judge(clean, pack)
        asked += 1
        answered += good.ok
        for kind in DEGRADATIONS:
            d = degrade(kind, clean, pack, packs)
            bad = judge.judge(d.transcript, d.pack)
            asked += 1
            answered += bad.ok
            if not (good.ok and bad.ok and good.scores and bad.scores):
                continue
            digits.extend((bad.ratings or {}).values())
            g, b = (
                weighted_overall(good.scores, DEFAULT_WEIGHTS),
                weighted_overall(bad.scores, DEFAULT_WEIGHTS),
            )
            slot = 0 if g > b else 1 if g == b else 2
            by_kind[kind][slot] += 1
            wins, ties, losses = wins + (slot == 0), ties + (slot == 1), losses + (slot == 2)
        digits.extend((good.ratings or {}).values())
    pool.close()
    pairs = wins + ties + losses
    return {
        "transcripts_judged": asked,
        "answered": answered,
        "pairs": pairs,
        "clean_ranked_higher": wins,
        "ties": ties,
        "clean_ranked_lower": losses,
        "by_degradation_win_tie_loss": by_kind,
        "distinct_digits": sorted(set(digits)),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--domain", default="healthcare")
    parser.add_argument("--tone", default="frustrated")
    parser.add_argument(
        "--judge-calls", type=int, default=6, help="exemplars the base-model judge rates (x5)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    arms = loop_arms(args.count, args.threshold, args.rounds, args.domain, args.tone)
    print(f"quality loop: {args.count} {args.domain} conversations ({args.tone}), threshold {args.threshold}")
    print(
        f"  first drafts: {arms['drafts']} written, {arms['draft_tokens']} tokens, {arms['draft_seconds']} s"
    )
    print("  round  baseline yield  critique yield  ratio")
    for b, c in zip(arms["baseline"]["rounds"], arms["critique"]["rounds"], strict=False):
        ratio = (
            c["cumulative_pass_rate"] / b["cumulative_pass_rate"]
            if b["cumulative_pass_rate"]
            else float("nan")
        )
        print(
            f"  {b['round']:>5}  {b['cumulative_pass_rate']:>14.2f}  {c['cumulative_pass_rate']:>14.2f}  {ratio:5.2f}"
        )
    for arm in ("baseline", "critique"):
        a = arms[arm]
        print(f"  {arm}: final yield {a['final_yield']:.2f}, {a['output_tokens']} tokens, {a['seconds']} s")
    print(f"  example critique: {arms['critique']['example_feedback'][:300]}")
    judge = judge_usefulness(args.judge_calls) if args.judge_calls else {}
    if judge:
        print(
            f"base-model judge: answered {judge['answered']}/{judge['transcripts_judged']}; clean above degraded "
            f"in {judge['clean_ranked_higher']}/{judge['pairs']} pairs, ties {judge['ties']}, below "
            f"{judge['clean_ranked_lower']} (model-free scorer: all pairs); digits used {judge['distinct_digits']}; "
            f"{judge['seconds']} s"
        )
        print(f"  by degradation (win, tie, loss): {judge['by_degradation_win_tie_loss']}")
    print(f"machine: {describe_machine('llama-cpp-python')}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"loop": arms, "judge": judge, "machine": describe_machine("llama-cpp-python")}, indent=2
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
