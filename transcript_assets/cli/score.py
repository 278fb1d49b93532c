"""`transcripts score IN.jsonl -o OUT.jsonl`: score any transcripts with the pipeline's discriminator.

Each line of IN is an output-contract record (at least ``id`` and ``turns: [{speaker, text}]``; transcripts
from other tools too). OUT gets each record, every field kept, with ``quality``: overall, passed, the four
dimensions, reasons naming the turn, and the coherence discriminator's signals and version. Records are
written and flushed one at a time; a bad line is reported with its line number and field, left out of OUT,
and makes the exit code 2 once the rest of the file is done.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from transcript_assets.cli.options import domain_packs, domains_option, fail, transform_jsonl
from transcript_foundry.contract.job_spec import DEFAULT_QUALITY_THRESHOLD


@click.command("score")
@click.argument("in_path", metavar="IN.jsonl", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("-o", "--out", "out_path", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_QUALITY_THRESHOLD,
    show_default=True,
    help="A record passes at this overall score with no hard rule broken (the JobSpec's quality_threshold).",
)
@click.option("--domain", help="Score every record against this domain pack (default: each record's domain).")
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False), default=None)
@domains_option
def score(
    in_path: Path,
    out_path: Path,
    threshold: float,
    domain: str | None,
    report_path: Path | None,
    domains_dir: tuple[Path, ...],
) -> None:
    """Score IN.jsonl with the pipeline's quality discriminator into OUT."""
    from transcript_foundry.quality.record_scoring import RecordScorer, RecordScoringError

    if out_path.resolve() == in_path.resolve():
        fail("-o/--out: must not be the input file (it is read while OUT is written)")
    try:
        scorer = RecordScorer(domain_packs(domains_dir), threshold, domain)
    except RecordScoringError as exc:
        fail(str(exc))
        raise
    started = time.perf_counter()
    written, errors = transform_jsonl(in_path, out_path, scorer.score, RecordScoringError)
    scored = [
        {"line": n, "id": r["id"], "overall": r["quality"]["overall"], "passed": r["quality"]["passed"]}
        for n, r in written
    ]
    seconds = time.perf_counter() - started
    for error in errors[:30]:
        click.echo(f"error: {in_path}: line {error['line']}: {error['error']}", err=True)
    passed = sum(r["passed"] for r in scored)
    click.echo(f"scored {len(scored)} transcript(s): {passed} passed at {threshold:.2f} → {out_path}")
    if report_path is not None:
        report = {
            "input": str(in_path),
            "output": str(out_path),
            "threshold": threshold,
            "records_scored": len(scored),
            "records_passed": passed,
            "records_rejected": len(errors),
            "seconds": round(seconds, 3),
            "errors": errors,
            "records": scored,
        }
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if errors:
        fail(f"{len(errors)} line(s) of {in_path} were not scored (see above); fix them and run again")
