"""Benchmark: the pipeline on the embedded model against a bare llama-cpp-python loop, same prompts, one run.

    .venv/bin/python bench/embedded_throughput.py [--count 12] [--threads N]

Both sides write the same planned conversations (same few-shot prefix, beat labels, sampling settings and
seeds; the bare loop is what a user would write by hand: one completion per turn, nothing checked). The
pipeline side is the real thing: `transcripts generate` minus the CLI (RequestRunner → Dagster runs →
quality gate with regeneration → library → exports) on a throw-away project home. Each side runs in its
own process so its peak memory (max RSS) is its own; the sides alternate for ``--rounds`` pairs and the
median ratio is reported, with the absolute numbers of that round. Printed: accepted output tokens/s and
conversations/hour of both, their ratio (the headline), the raw-generation ratio (all tokens, accepted or
not: the pipeline's overhead alone), peak memory and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine_description import describe_machine  # noqa: E402  (bench/, the script's folder)

REQUEST = "Generate {count} healthcare transcripts with frustrated callers"
SEED = 20261124


def _spec_and_ids(count: int, out_dir: Path) -> tuple[Any, str, str]:
    from transcript_assets.job_spec import JobSpec
    from transcript_assets.partitions import shard_key
    from transcript_assets.request_runner import request_id_for

    spec = JobSpec(count=count, domain="healthcare", emotional_tone="frustrated", seed=SEED)
    request_id = request_id_for(spec, out_dir)
    return spec, request_id, shard_key(request_id, 0)


def bare_loop(count: int, threads: int, out_dir: Path) -> dict[str, Any]:
    """One completion per turn with llama-cpp-python directly: no cleaning, no checks, no state."""
    started = time.perf_counter()
    from llama_cpp import Llama

    from resources.dry_penalty import DryPenalty
    from resources.embedded_model import ensure_embedded_model
    from transcript_assets.conversation_plan import plan_conversation
    from transcript_assets.domain_pack import load_domain_packs
    from transcript_assets.few_shot_prompt import (
        conversation_header,
        exemplar_seed,
        planned_label,
        select_exemplars,
        shared_prefix,
    )
    from transcript_assets.turn_by_turn_generator import TurnByTurnSettings, derived_seed

    spec, request_id, _ = _spec_and_ids(count, out_dir)
    pack = load_domain_packs()["healthcare"]
    settings = TurnByTurnSettings()
    exemplars = select_exemplars(pack, "frustrated", 2, random.Random(exemplar_seed(SEED, 0)))
    prefix = shared_prefix(pack, exemplars)
    llm = Llama(
        model_path=str(ensure_embedded_model()),
        n_ctx=4096,
        n_threads=threads,
        n_threads_batch=threads,
        n_batch=512,
        verbose=False,
    )
    dry = DryPenalty(
        lambda token: llm.detokenize([token]).decode("utf-8", errors="ignore"),
        multiplier=settings.dry_multiplier,
        base=settings.dry_base,
        allowed_length=settings.dry_allowed_length,
    )
    tokens = 0
    for index in range(count):
        plan = plan_conversation(spec, pack, request_id, SEED, index)
        text = prefix + conversation_header(plan, len(exemplars) + 1)
        for i, planned in enumerate(plan.turns):
            prompt = text + planned_label(planned, plan.emotional_tone)
            out = llm.create_completion(
                prompt,
                max_tokens=settings.max_turn_tokens,
                temperature=settings.temperature,
                top_p=settings.top_p,
                repeat_penalty=settings.repeat_penalty,
                stop=["\n"],
                seed=derived_seed(plan.seed, 1, 0, i, 0),
                logits_processor=[dry] if settings.dry_multiplier > 0 else None,
            )
            tokens += out["usage"]["completion_tokens"]
            text = f"{prompt} {out['choices'][0]['text'].strip()}\n"
    wall = time.perf_counter() - started
    return {"conversations": count, "output_tokens": tokens, "accepted_output_tokens": tokens, "wall_s": wall}


def pipeline(count: int, threads: int, out_dir: Path) -> dict[str, Any]:
    """The real pipeline (as `transcripts generate` runs it) on a throw-away project home."""
    home = out_dir.parent / "home"
    os.environ["TRANSCRIPTS_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(home / "dagster_home")
    os.environ["TRANSCRIPTS_THREADS"] = str(threads)
    (home / "dagster_home").mkdir(parents=True, exist_ok=True)
    (home / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    started = time.perf_counter()
    from dagster import DagsterInstance

    from transcript_assets.definitions import build_resources, defs
    from transcript_assets.domain_pack import load_domain_packs
    from transcript_assets.request_runner import RequestRunner

    spec, _, _ = _spec_and_ids(count, out_dir)
    runner = RequestRunner(defs, DagsterInstance.get(), build_resources()["ledger"], load_domain_packs())  # type: ignore[arg-type]
    request_id = runner.submit(spec, REQUEST.format(count=count), out_dir)
    summary = runner.run(request_id)
    wall = time.perf_counter() - started
    return {
        "conversations": summary.accepted,
        "output_tokens": summary.output_tokens,
        "accepted_output_tokens": summary.accepted_output_tokens,
        "wall_s": wall,
        "fulfilled": summary.fulfilled,
        "slots": {
            "accepted": summary.accepted + len(summary.surplus_accepted),
            "rejected_quality": summary.rejected_quality,
            "duplicate": summary.duplicate,
            "failed": summary.failed,
        },
        "dagster_runs": len(summary.dagster_runs),
    }


def _child(phase: str, count: int, threads: int, out_dir: str) -> None:
    fn = {"bare": bare_loop, "pipeline": pipeline}[phase]
    result = fn(count, threads, Path(out_dir))
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def _run_phase(phase: str, count: int, threads: int, scratch: Path) -> dict[str, Any]:
    out_dir = scratch / phase / "out"
    out_dir.mkdir(parents=True)
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--phase",
            phase,
            "--count",
            str(count),
            "--threads",
            str(threads),
            "--out-dir",
            str(out_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{phase} phase failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=12, help="conversations per side (default 12)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--rounds", type=int, default=2, help="bare/pipeline pairs; the median ratio is reported"
    )
    parser.add_argument("--phase", choices=["bare", "pipeline"], help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if args.phase:
        _child(args.phase, args.count, args.threads, args.out_dir)
        return
    rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="tf-bench-") as scratch:
        for n in range(args.rounds):  # alternate the sides so drift on a shared machine hits both
            bare = _run_phase("bare", args.count, args.threads, Path(scratch) / f"round{n}")
            pipe = _run_phase("pipeline", args.count, args.threads, Path(scratch) / f"round{n}")
            for side in (bare, pipe):
                side["accepted_tokens_per_s"] = side["accepted_output_tokens"] / side["wall_s"]
                side["all_tokens_per_s"] = side["output_tokens"] / side["wall_s"]
                side["conversations_per_hour"] = side["conversations"] * 3600 / side["wall_s"]
            rounds.append((bare, pipe))
    ratios = sorted(p["accepted_tokens_per_s"] / b["accepted_tokens_per_s"] for b, p in rounds)
    bare, pipe = min(
        rounds,
        key=lambda r: abs(
            r[1]["accepted_tokens_per_s"] / r[0]["accepted_tokens_per_s"] - statistics.median(ratios)
        ),
    )
    ratio = statistics.median(ratios)
    conv_ratio = pipe["conversations_per_hour"] / bare["conversations_per_hour"]
    raw_ratio = pipe["all_tokens_per_s"] / bare["all_tokens_per_s"]
    print(f"machine: {describe_machine('llama-cpp-python')}")
    print(f"request: {REQUEST.format(count=args.count)!r}, {args.threads} llama.cpp threads, seed {SEED}")
    print(
        f"{'':<10}{'wall s':>9}{'accepted':>10}{'acc tok/s':>11}{'conv/hour':>11}{'all tok/s':>11}{'peak MiB':>10}"
    )
    for name, side in (("bare loop", bare), ("pipeline", pipe)):
        print(
            f"{name:<10}{side['wall_s']:>9.1f}{side['conversations']:>10}{side['accepted_tokens_per_s']:>11.1f}"
            f"{side['conversations_per_hour']:>11.0f}{side['all_tokens_per_s']:>11.1f}{side['peak_rss_mib']:>10.0f}"
        )
    print(f"pipeline slots: {pipe['slots']} in {pipe['dagster_runs']} Dagster runs (the median round)")
    if len(rounds) > 1:
        print("ratio per round: " + ", ".join(f"{r:.2f}" for r in ratios))
    print(f"RATIO accepted output tokens/s, pipeline / bare loop: {ratio:.2f}  (target >= 0.9)")
    print(
        f"ratio conversations/hour: {conv_ratio:.2f}; raw generation (all tokens/s, overhead only): {raw_ratio:.2f}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "bare": bare,
                    "pipeline": pipe,
                    "ratio": ratio,
                    "conversations_ratio": conv_ratio,
                    "raw_ratio": raw_ratio,
                    "machine": describe_machine("llama-cpp-python"),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
