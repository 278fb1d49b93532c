"""`transcripts dedup IN.jsonl -o OUT.jsonl`: the library's dedup rules on a user's own transcripts file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError

from transcript_assets.cli.options import fail
from transcript_foundry.dedup.rule_names import RULES

if TYPE_CHECKING:
    from transcript_foundry.dedup.dedup_config import DedupConfig

_THRESHOLD_FIELDS = {
    "minhash": "minhash_threshold",
    "flow": "flow_content_threshold",
    "semantic": "semantic_threshold",
}


def _config(rules: str, thresholds: tuple[str, ...], model: str | None, batch_size: int) -> DedupConfig:
    from transcript_foundry.dedup.dedup_config import DedupConfig
    from transcript_foundry.settings.environment import project_paths
    from transcript_foundry.settings.store import SettingsStore
    from transcript_foundry.state.ledger import RequestLedger

    dedup = SettingsStore(RequestLedger(url=project_paths().state_url).engine).load().settings.dedup
    fields: dict[str, Any] = {
        "rules": [r.strip() for r in rules.split(",") if r.strip()],
        "batch_size": batch_size,
        **{name: getattr(dedup, name) for name in _THRESHOLD_FIELDS.values()},  # the dedup settings
    }
    for item in thresholds:
        rule, sep, value = item.partition("=")
        if not sep or rule.strip() not in _THRESHOLD_FIELDS:
            fail(
                f"--threshold {item!r}: write RULE=VALUE with RULE one of {', '.join(_THRESHOLD_FIELDS)}, "
                "e.g. --threshold semantic=0.9"
            )
        try:
            fields[_THRESHOLD_FIELDS[rule.strip()]] = float(value)
        except ValueError:
            fail(f"--threshold {item!r}: {value!r} is not a number; give a similarity between 0 and 1")
    if model:
        fields["embedding_model_path"] = model
    try:
        return DedupConfig(**fields)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else ""
            option = "--rules" if name == "rules" else f"--threshold ({name})"
            problems.append(f"{option}: {e['msg']}")
        fail("; ".join(problems))
        raise  # unreachable


@click.command("dedup")
@click.argument("in_path", metavar="IN.jsonl", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("-o", "--out", "out_path", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option(
    "--rules",
    default=",".join(RULES),
    show_default=True,
    help="Comma-separated rules, tried in this order: exact, minhash, flow, semantic.",
)
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    metavar="RULE=VALUE",
    help="Override a rule's threshold (repeatable): minhash=0.4, flow=0.6, semantic=0.95 are the defaults.",
)
@click.option(
    "--model", default=None, help="A sentence-transformers model folder (default: all-MiniLM-L6-v2)."
)
@click.option("--batch-size", default=1024, show_default=True, help="Transcripts compared per batch.")
def dedup_command(
    in_path: Path,
    out_path: Path,
    report_path: Path | None,
    rules: str,
    thresholds: tuple[str, ...],
    model: str | None,
    batch_size: int,
) -> None:
    """Drop duplicate transcripts from IN.jsonl (any records with id and turns), keeping the first of each.

    OUT gets the kept records unchanged (speakers written AGENT / CUSTOMER), in input order; --report writes every dropped id with the rule
    that fired, its similarity and the kept id it duplicates, plus counts per rule (see docs/dedup.md).
    """
    from transcript_foundry.contract.jsonl_file import write_jsonl
    from transcript_foundry.contract.lenient_transcripts import TranscriptFileError, read_transcripts
    from transcript_foundry.dedup.call_embeddings import call_embedder
    from transcript_foundry.dedup.dedup_decision import dropped_by_rule
    from transcript_foundry.dedup.dedup_index import DedupIndex
    from transcript_foundry.dedup.embedding_model import EmbeddingModelError

    config = _config(rules, thresholds, model, batch_size)
    started = time.perf_counter()
    try:
        records = read_transcripts(in_path)
    except TranscriptFileError as exc:
        fail(str(exc))
        raise  # unreachable
    embedder = None
    if "semantic" in config.rules:
        try:
            embedder, _ = call_embedder(config.embedding_model_path, config.embedding_batch_size)
        except EmbeddingModelError as exc:
            fail(f"--model: {exc}")
    index = DedupIndex(config, embedder)
    decisions = []
    for start in range(0, len(records), config.batch_size):
        decisions.extend(index.add_batch(records[start : start + config.batch_size]))
    kept = [r for r, d in zip(records, decisions, strict=True) if d.kept]
    write_jsonl(out_path, kept)
    dropped = [d for d in decisions if not d.kept]
    counts = dropped_by_rule(decisions, config.rules)
    report = {
        "input": str(in_path),
        "output": str(out_path),
        "transcripts": len(records),
        "kept": len(kept),
        "dropped": len(dropped),
        "dropped_by_rule": counts,
        "rules": list(config.rules),
        "thresholds": {rule: config.threshold(rule) for rule in config.rules},
        "seconds": round(time.perf_counter() - started, 3),
        "duplicates": [
            {"id": d.id, "rule": d.rule, "similarity": d.similarity, "duplicate_of": d.duplicate_of}
            for d in dropped
        ],
    }
    if report_path:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    by_rule = ", ".join(f"{rule} {n}" for rule, n in counts.items())
    click.echo(
        f"{len(records)} transcripts: kept {len(kept)}, dropped {len(dropped)} ({by_rule}) → {out_path}"
    )
