"""Benchmark: the pipeline on the embedded model against a bare llama-cpp-python loop, same prompts, one run.

    .venv/bin/python bench/embedded_throughput.py [--count 12] [--threads N] [--sequences 4] [--single-sequence]
        [--peer]

Both sides write the same planned conversations (same few-shot prefix, beat labels, sampling settings and
seeds; the bare loop is what a user would write by hand: one completion per turn, one sequence, nothing
checked). The pipeline side is the real thing: `transcripts generate` minus the CLI (RequestRunner →
Dagster runs → quality gate with regeneration → library → exports) on a throw-away project home, with the
local node decoding ``--sequences`` conversations together (its default, 4). ``--single-sequence`` adds a
third side per round, the pipeline at one sequence: its ratio to the bare loop is the pipeline's overhead
alone, with the batching taken out. ``--peer`` adds the honest peer (bench/llama_server_peer.py): llama.cpp's
own llama-server with ``--parallel`` = ``--sequences`` slots, built from the same vendored sources, driven by
an asyncio ``openai`` client with that many conversations in flight, and the pipeline with that server as its
only node; the ratios against the server are printed. Each side runs in its
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
    from transcript_foundry.contract.job_spec import JobSpec
    from transcript_foundry.request.lifecycle import request_id_for, shard_key

    spec = JobSpec(count=count, domain="healthcare", emotional_tone="frustrated", seed=SEED)
    request_id = request_id_for(spec, out_dir)
    return spec, request_id, shard_key(request_id, 0)


def planned_jobs(count: int, out_dir: Path) -> list[dict[str, Any]]:
    """The planned conversations every side writes: the prompt so far (few-shot prefix and the call's
    header) and, per turn, its beat label and sampling seed."""
    from transcript_foundry.domains.domain_pack import load_domain_packs
    from transcript_foundry.generation.conversation_plan import plan_conversation
    from transcript_foundry.generation.few_shot_prompt import (
        conversation_header,
        exemplar_seed,
        planned_label,
        select_exemplars,
        shared_prefix,
    )
    from transcript_foundry.generation.turn_by_turn import derived_seed

    spec, request_id, _ = _spec_and_ids(count, out_dir)
    pack = load_domain_packs()["healthcare"]
    exemplars = select_exemplars(pack, "frustrated", 2, random.Random(exemplar_seed(SEED, 0)))
    prefix = shared_prefix(pack, exemplars)
    jobs = []
    for index in range(count):
        plan = plan_conversation(spec, pack, request_id, SEED, index)
        jobs.append(
            {
                "text": prefix + conversation_header(plan, len(exemplars) + 1),
                "turns": [
                    (planned_label(planned, plan.emotional_tone), derived_seed(plan.seed, 1, 0, i, 0))
                    for i, planned in enumerate(plan.turns)
                ],
            }
        )
    return jobs


def bare_loop(count: int, threads: int, out_dir: Path) -> dict[str, Any]:
    """One completion per turn with llama-cpp-python directly: no cleaning, no checks, no state."""
    started = time.perf_counter()
    from llama_cpp import Llama

    from transcript_foundry.generation.turn_by_turn import TurnByTurnSettings
    from transcript_foundry.llm.dry_penalty import DryPenalty
    from transcript_foundry.llm.embedded_model import ensure_embedded_model

    settings = TurnByTurnSettings()
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
    for job in planned_jobs(count, out_dir):
        text = job["text"]
        for label, seed in job["turns"]:
            prompt = text + label
            out = llm.create_completion(
                prompt,
                max_tokens=settings.max_turn_tokens,
                temperature=settings.temperature,
                top_p=settings.top_p,
                repeat_penalty=settings.repeat_penalty,
                stop=["\n"],
                seed=seed,
                logits_processor=[dry] if settings.dry_multiplier > 0 else None,
            )
            tokens += out["usage"]["completion_tokens"]
            text = f"{prompt} {out['choices'][0]['text'].strip()}\n"
    wall = time.perf_counter() - started
    return {"conversations": count, "output_tokens": tokens, "accepted_output_tokens": tokens, "wall_s": wall}


def server_peer(count: int, threads: int, out_dir: Path, parallel: int) -> dict[str, Any]:
    """llama-server --parallel N and a plain asyncio openai client, N conversations in flight."""
    from llama_server_peer import running_server, write_with_server

    from transcript_foundry.llm.embedded_model import ensure_embedded_model

    started = time.perf_counter()
    jobs = planned_jobs(count, out_dir)
    with running_server(ensure_embedded_model(), parallel, threads) as base_url:
        tokens = write_with_server(base_url, jobs, parallel)
    wall = time.perf_counter() - started
    return {"conversations": count, "output_tokens": tokens, "accepted_output_tokens": tokens, "wall_s": wall}


def pipeline(count: int, threads: int, out_dir: Path, sequences: int) -> dict[str, Any]:
    """The real pipeline (as `transcripts generate` runs it) on a throw-away project home."""
    home = out_dir.parent / "home"
    os.environ["TRANSCRIPTS_SEQUENCES"] = str(sequences)
    os.environ["TRANSCRIPTS_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(home / "dagster_home")
    os.environ["TRANSCRIPTS_THREADS"] = str(threads)
    (home / "dagster_home").mkdir(parents=True, exist_ok=True)
    (home / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    started = time.perf_counter()
    from dagster import DagsterInstance

    from transcript_assets.definitions import build_resources, defs
    from transcript_assets.request_runner import RequestRunner
    from transcript_foundry.domains.domain_pack import load_domain_packs

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
        "sequences": sequences,
    }


def pipeline_on_server(count: int, threads: int, out_dir: Path, parallel: int) -> dict[str, Any]:
    """The pipeline with that llama-server as its only node, through the pool (OpenAI-compatible)."""
    from llama_server_peer import running_server

    from transcript_foundry.llm.embedded_model import ensure_embedded_model

    with running_server(ensure_embedded_model(), parallel, threads) as base_url:
        os.environ["TRANSCRIPTS_OPENAI_BASE_URL"] = base_url
        os.environ["TRANSCRIPTS_OPENAI_MODEL"] = "peer"
        return pipeline(count, threads, out_dir, parallel)


def _child(phase: str, count: int, threads: int, out_dir: str, sequences: int) -> None:
    if phase == "bare":
        result = bare_loop(count, threads, Path(out_dir))
    elif phase == "server":
        result = server_peer(count, threads, Path(out_dir), sequences)
    elif phase == "pipeline-server":
        result = pipeline_on_server(count, threads, Path(out_dir), sequences)
    else:
        result = pipeline(count, threads, Path(out_dir), sequences)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def _run_phase(phase: str, count: int, threads: int, scratch: Path, sequences: int = 1) -> dict[str, Any]:
    out_dir = scratch / f"{phase}-{sequences}" / "out"
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
            "--sequences",
            str(sequences),
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
    parser.add_argument(
        "--sequences", type=int, default=4, help="conversations the pipeline's local node decodes together"
    )
    parser.add_argument(
        "--single-sequence",
        action="store_true",
        help="also run the pipeline at one sequence (its overhead alone, against the bare loop)",
    )
    parser.add_argument(
        "--peer",
        action="store_true",
        help="also run llama-server --parallel N (built by tools/build-llama-server.sh) with an asyncio client, "
        "and the pipeline with that server as its only node; ratios against the server",
    )
    parser.add_argument(
        "--phase", choices=["bare", "pipeline", "server", "pipeline-server"], help=argparse.SUPPRESS
    )
    parser.add_argument("--out-dir", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if args.phase:
        _child(args.phase, args.count, args.threads, args.out_dir, args.sequences)
        return
    rounds: list[dict[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="tf-bench-") as scratch:
        for n in range(args.rounds):  # alternate the sides so drift on a shared machine hits them all
            where = Path(scratch) / f"round{n}"
            sides = {
                "bare loop": _run_phase("bare", args.count, args.threads, where),
                "pipeline": _run_phase("pipeline", args.count, args.threads, where, args.sequences),
            }
            if args.single_sequence:
                sides["pipeline, 1 seq"] = _run_phase("pipeline", args.count, args.threads, where, 1)
            if args.peer:
                sides["llama-server"] = _run_phase("server", args.count, args.threads, where, args.sequences)
                sides["pipeline→server"] = _run_phase(
                    "pipeline-server", args.count, args.threads, where, args.sequences
                )
            for side in sides.values():
                side["accepted_tokens_per_s"] = side["accepted_output_tokens"] / side["wall_s"]
                side["all_tokens_per_s"] = side["output_tokens"] / side["wall_s"]
                side["conversations_per_hour"] = side["conversations"] * 3600 / side["wall_s"]
            rounds.append(sides)

    def ratio_of(r: dict[str, dict[str, Any]], name: str, key: str = "accepted_tokens_per_s") -> float:
        return float(r[name][key] / r["bare loop"][key])

    ratios = sorted(ratio_of(r, "pipeline") for r in rounds)
    ratio = statistics.median(ratios)
    shown = min(rounds, key=lambda r: abs(ratio_of(r, "pipeline") - ratio))
    print(f"machine: {describe_machine('llama-cpp-python')}")
    print(
        f"request: {REQUEST.format(count=args.count)!r}, {args.threads} llama.cpp threads, seed {SEED}; "
        f"the pipeline's local node decodes {args.sequences} sequences together"
    )
    print(
        f"{'':<16}{'wall s':>9}{'accepted':>10}{'acc tok/s':>11}{'conv/hour':>11}{'all tok/s':>11}{'peak MiB':>10}"
    )
    for name, side in shown.items():
        print(
            f"{name:<16}{side['wall_s']:>9.1f}{side['conversations']:>10}{side['accepted_tokens_per_s']:>11.1f}"
            f"{side['conversations_per_hour']:>11.0f}{side['all_tokens_per_s']:>11.1f}{side['peak_rss_mib']:>10.0f}"
        )
    pipe = shown["pipeline"]
    print(f"pipeline slots: {pipe['slots']} in {pipe['dagster_runs']} Dagster runs (the round shown)")
    if len(rounds) > 1:
        print("ratio per round: " + ", ".join(f"{r:.2f}" for r in ratios))
    print(f"RATIO accepted output tokens/s, pipeline / bare loop: {ratio:.2f}  (target >= 0.9)")
    conv_ratio = ratio_of(shown, "pipeline", "conversations_per_hour")
    raw_ratio = ratio_of(shown, "pipeline", "all_tokens_per_s")
    print(f"ratio conversations/hour: {conv_ratio:.2f}; all tokens/s: {raw_ratio:.2f}")
    single: dict[str, float] = {}
    if args.single_sequence:
        single = {
            "ratio": statistics.median(ratio_of(r, "pipeline, 1 seq") for r in rounds),
            "conversations_ratio": ratio_of(shown, "pipeline, 1 seq", "conversations_per_hour"),
            "raw_ratio": ratio_of(shown, "pipeline, 1 seq", "all_tokens_per_s"),
        }
        print(
            f"pipeline at 1 sequence / bare loop (overhead alone): accepted tokens/s {single['ratio']:.2f} "
            f"(median), conversations/hour {single['conversations_ratio']:.2f}, "
            f"all tokens/s {single['raw_ratio']:.2f}"
        )
    peer: dict[str, float] = {}
    if args.peer:
        peer = {
            "pipeline_over_server": statistics.median(
                r["pipeline"]["accepted_tokens_per_s"] / r["llama-server"]["accepted_tokens_per_s"]
                for r in rounds
            ),
            "pipeline_over_server_conversations": statistics.median(
                r["pipeline"]["conversations_per_hour"] / r["llama-server"]["conversations_per_hour"]
                for r in rounds
            ),
        }
        print(
            f"PEER pipeline / llama-server --parallel {args.sequences}: accepted tokens/s "
            f"{peer['pipeline_over_server']:.2f}, conversations/hour {peer['pipeline_over_server_conversations']:.2f}"
            " (median of rounds; target >= 1.5)"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rounds": rounds,
                    "ratio": ratio,
                    "conversations_ratio": conv_ratio,
                    "raw_ratio": raw_ratio,
                    "single_sequence": single,
                    "peer": peer,
                    "machine": describe_machine("llama-cpp-python"),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
