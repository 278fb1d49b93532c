"""Benchmark: exact, MinHash and semantic dedup at 10k and 100k synthetic transcripts, and the incremental cost
of adding 1k transcripts to a 100k library as a ratio of the full run.

    .venv/bin/python bench/dedup_scaling.py [--sizes 10000,100000] [--increment 1000] [--embed-sample 192]
        [--semantic-max 10000] [--json OUT.json]

Calls are built from the domain packs' exemplars (tests/support/dedup_corpus.py: turns mixed across a domain's
exemplars, a third of the words replaced) with 10 % planted duplicates (exact copies, 5 % and 10 % word
edits) of earlier calls; each run reports how many planted duplicates it caught and how many distinct calls
it dropped. Each rule runs one-shot over the calls in batches of 1024 (what ``transcripts dedup`` does).

Semantic: the model's cost is embedding, linear in the calls, measured on ``--embed-sample`` real calls
(calls/s). The search is measured on call vectors made from those real embeddings (each distinct call a
real embedding plus noise that puts distinct calls near cosine 0.8, as measured between real distinct
calls; a planted duplicate its original's vector plus noise near 0.99), up to ``--semantic-max`` calls;
above that, the one-shot semantic time is EXTRAPOLATED: embedding linearly at the measured rate, the
search quadratically (a one-shot run compares each batch with everything kept before it). The incremental
run is measured in full on a 100k index (vectors as above), plus the embedding of the new calls at the
measured rate.

Incremental: a library index of the first N calls is stored (Parquet/NumPy segments, as the
transcript_library asset keeps it); then a fresh index object loads it, takes ``--increment`` new calls
(with planted duplicates of library calls), and writes its new segment. Its time is set against the full
run of all N + increment calls with the same three rules.

Memory: the peak growth of the process's resident set during each stage (sampled every 5 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine_description import describe_machine  # noqa: E402  (bench/, the script's folder)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from tests.support.dedup_corpus import exemplar_records, synthetic_calls  # noqa: E402
from transcript_foundry.dedup.dedup_config import DedupConfig  # noqa: E402
from transcript_foundry.dedup.dedup_decision import DedupDecision  # noqa: E402
from transcript_foundry.dedup.dedup_index import DedupIndex  # noqa: E402
from transcript_foundry.dedup.index_store import load_index, save_rows  # noqa: E402
from transcript_foundry.domains.domain_pack import load_domain_packs  # noqa: E402

SEED = 20261201
BATCH = 1024
DISTINCT_COSINE = 0.8  # noise level for distinct calls' vectors (real distinct calls measured 0.32-0.80)
DUPLICATE_COSINE = 0.99


class PeakMemory:
    """Peak RSS growth (MiB) while the block runs."""

    def __enter__(self) -> PeakMemory:
        self._process = psutil.Process()
        self._start = self._peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self._process.memory_info().rss)
        self.mib = (self._peak - self._start) / 2**20


CPU_SECONDS: list[float] = []  # process CPU time of each measure() call, in order


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(value, wall seconds, peak RSS growth MiB); the CPU seconds go to CPU_SECONDS (see cpu())."""
    with PeakMemory() as mem:
        started, cpu_started = time.perf_counter(), time.process_time()
        value = fn()
        seconds = time.perf_counter() - started
    CPU_SECONDS.append(time.process_time() - cpu_started)
    return value, seconds, mem.mib


def cpu() -> str:
    """The last stage's CPU time: on a shared machine, what the stage costs without waiting for a core."""
    return f"(cpu {CPU_SECONDS[-1]:.1f} s)"


def one_shot(index: DedupIndex, calls: list[dict[str, Any]]) -> list[DedupDecision]:
    decisions: list[DedupDecision] = []
    for start in range(0, len(calls), BATCH):
        decisions.extend(index.add_batch(calls[start : start + BATCH]))
    return decisions


def quality(decisions: list[DedupDecision], planted: dict[str, str]) -> str:
    """Planted duplicates caught per kind (exact copy, 5 % / 10 % word edits) and distinct calls dropped."""
    dropped = {d.id for d in decisions if not d.kept}
    seen = {d.id for d in decisions}
    parts = []
    for kind in ("copy", "edit05", "edit10"):
        wanted = [k for k in planted if k in seen and k.endswith(kind)]
        parts.append(f"{kind} {sum(k in dropped for k in wanted)}/{len(wanted)}")
    false = sum(1 for k in dropped if k not in planted)
    return f"planted caught: {', '.join(parts)}; distinct dropped: {false}"


class SampleVectors:
    """Call vectors from real embeddings: distinct calls = a real vector + noise, duplicates = original + noise."""

    def __init__(self, sample: np.ndarray, calls: list[dict[str, Any]], planted: dict[str, str]):
        self.sample = sample
        self.position = {id(c["turns"]): i for i, c in enumerate(calls)}
        self.ids = [c["id"] for c in calls]
        self.row_of = {c["id"]: i for i, c in enumerate(calls)}
        self.planted = planted
        dim = sample.shape[1]
        self.sigma_distinct = np.sqrt((1 / DISTINCT_COSINE - 1) / dim)
        self.sigma_duplicate = np.sqrt((1 / DUPLICATE_COSINE - 1) / dim)

    def _vector(self, i: int) -> np.ndarray:
        rng = np.random.default_rng(SEED + i)
        original = self.planted.get(self.ids[i])
        if original is not None:
            base = self._vector(self.row_of[original])
            v = base + rng.normal(0, self.sigma_duplicate, base.shape)
        else:
            v = self.sample[i % len(self.sample)] + rng.normal(0, self.sigma_distinct, self.sample.shape[1])
        return (v / np.linalg.norm(v)).astype(np.float32)

    def __call__(self, calls: Any) -> np.ndarray:
        return np.stack([self._vector(self.position[id(turns)]) for turns in calls])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="library sizes, comma-separated")
    parser.add_argument("--increment", type=int, default=1000, help="calls added to the largest library")
    parser.add_argument(
        "--embed-sample", type=int, default=192, help="real calls embedded to measure calls/s"
    )
    parser.add_argument(
        "--semantic-max", type=int, default=10000, help="largest size the semantic search runs at"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    largest = sizes[-1]
    results: dict[str, Any] = {
        "machine": describe_machine("datasketch", "sentence-transformers", "torch"),
        "sizes": sizes,
        "increment": args.increment,
    }
    print(f"machine: {results['machine']}")

    exemplars = exemplar_records(load_domain_packs())
    (calls, planted), seconds, _ = measure(lambda: synthetic_calls(exemplars, largest + args.increment, SEED))
    print(
        f"corpus: {len(calls)} synthetic calls ({len(planted)} planted duplicates) built in {seconds:.1f} s\n"
    )

    lexical: dict[int, dict[str, float]] = {}
    for n in sizes:
        lexical[n] = {}
        for rule in ("exact", "minhash"):
            decisions, seconds, mib = measure(
                lambda rule=rule, n=n: one_shot(DedupIndex(DedupConfig(rules=[rule])), calls[:n])
            )
            lexical[n][rule] = seconds
            results[f"{rule}_{n}"] = {"seconds": seconds, "cpu_seconds": CPU_SECONDS[-1], "peak_mib": mib}
            print(
                f"{rule:>8} {n:>7,} calls: {seconds:7.1f} s {cpu()} peak +{mib:5.0f} MiB {n / seconds:6.0f} calls/s  "
                f"{quality(decisions, planted)}"
            )

    from transcript_foundry.dedup.call_embeddings import call_embedder
    from transcript_foundry.dedup.embedding_model import load_model, resolve_model_dir

    _, load_seconds, load_mib = measure(lambda: load_model(resolve_model_dir()))
    embed, _ = call_embedder(None)
    embed([c["turns"] for c in calls[:4]])  # warm-up: the first forward pass sets things up
    sample_calls = [c["turns"] for c in calls[: args.embed_sample]]
    sample, embed_seconds, embed_mib = measure(lambda: embed(sample_calls))
    rate = len(sample_calls) / embed_seconds
    results["embedding"] = {
        "model_load_seconds": load_seconds,
        "calls_per_second": rate,
        "peak_mib": embed_mib,
    }
    print(
        f"\nsemantic: model load {load_seconds:.1f} s (+{load_mib:.0f} MiB, once per process); embedding "
        f"{rate:.1f} calls/s measured on {len(sample_calls)} calls {cpu()} (+{embed_mib:.0f} MiB)"
    )
    vectors = SampleVectors(sample, calls, planted)
    semantic = DedupConfig(rules=["semantic"])
    measured_search: tuple[int, float] | None = None
    for n in sizes:
        if n <= args.semantic_max:
            decisions, seconds, mib = measure(lambda n=n: one_shot(DedupIndex(semantic, vectors), calls[:n]))
            measured_search = (n, seconds)
            total = n / rate + seconds
            results[f"semantic_{n}"] = {
                "search_seconds": seconds,
                "total_seconds": total,
                "peak_mib": mib,
                "extrapolated": False,
            }
            print(
                f"semantic {n:>7,} calls: search {seconds:6.1f} s measured {cpu()} (+{mib:.0f} MiB) + embedding "
                f"{n / rate:7.0f} s at the measured rate = {total:7.0f} s  {quality(decisions, planted)}"
            )
        else:
            assert measured_search, "--semantic-max must cover the smallest size"
            m, base = measured_search
            search = base * (n / m) ** 2
            total = n / rate + search
            results[f"semantic_{n}"] = {
                "search_seconds": search,
                "total_seconds": total,
                "extrapolated": True,
            }
            print(
                f"semantic {n:>7,} calls: EXTRAPOLATED from {m:,}: search {search:6.0f} s (quadratic, one-shot) + "
                f"embedding {n / rate:7.0f} s (linear) = {total:7.0f} s"
            )

    all_rules = DedupConfig(rules=["exact", "minhash", "semantic"])
    library = [c for c in calls[:largest] if c["id"] not in planted]
    new = calls[largest:]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "dedup_index"

        def build() -> None:
            index = DedupIndex(all_rules, vectors)
            for start in range(0, len(library), 10_000):
                index.append_kept(library[start : start + 10_000])
            save_rows(folder, index, 0, "bench-vectors")

        _, build_seconds, build_mib = measure(build)

        def increment() -> list[DedupDecision]:
            index = load_index(folder, all_rules, vectors, "bench-vectors")
            before = len(index)
            made = index.add_batch(new)
            save_rows(folder, index, before, "bench-vectors")
            return made

        decisions, inc_seconds, inc_mib = measure(increment)
    inc_total = inc_seconds + len(new) / rate
    full_n = largest + len(new)
    scale = full_n / largest
    full_lexical = (lexical[largest]["exact"] + lexical[largest]["minhash"]) * scale
    m, base = measured_search or (largest, 0.0)
    full_semantic = full_n / rate + base * (full_n / m) ** 2
    full = full_lexical + full_semantic
    results["incremental"] = {
        "library": len(library),
        "added_calls": len(new),
        "seconds_measured": inc_seconds,
        "seconds_with_embedding": inc_total,
        "peak_mib": inc_mib,
        "index_build_seconds": build_seconds,
        "full_run_seconds": full,
        "ratio": inc_total / full,
    }
    inc_cpu = CPU_SECONDS[-1]
    measured_full = full_lexical + base * (full_n / m) ** 2
    results["incremental"]["ratio_without_embedding"] = inc_seconds / measured_full
    print(
        f"\nincremental: {len(new):,} new calls against the stored index of the first {largest:,} calls "
        f"({len(library):,} kept) "
        f"(exact + minhash + semantic; index built and stored in {build_seconds:.0f} s, +{build_mib:.0f} MiB)"
    )
    print(
        f"  load index + compare + write segment: {inc_seconds:.1f} s measured (cpu {inc_cpu:.1f} s, "
        f"+{inc_mib:.0f} MiB), "
        f"+ embedding {len(new) / rate:.0f} s at the measured rate = {inc_total:.0f} s; {quality(decisions, planted)}"
    )
    print(
        f"  full run of all {full_n:,} calls: exact + minhash {full_lexical:.0f} s (measured at {largest:,}, "
        f"scaled linearly) + semantic {full_semantic:.0f} s (extrapolated) = {full:.0f} s"
    )
    print(f"  incremental / full = {inc_total / full:.4f}  ({full / inc_total:.0f}x cheaper)")
    print(
        f"  without the embedding on either side: {inc_seconds:.1f} s / {measured_full:.0f} s = "
        f"{inc_seconds / measured_full:.4f}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
