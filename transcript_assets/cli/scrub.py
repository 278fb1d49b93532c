"""`transcripts scrub IN.jsonl -o OUT.jsonl`: scrub PHI / PII from a user's own transcripts.

Each line of IN is a transcript record, ours or another tool's (at least ``turns: [{speaker, text}]``,
read by the lenient transcript reader; every other field is kept, speakers written AGENT / CUSTOMER). OUT gets each record with its turn texts scrubbed and ``phi`` spans, written
and flushed one record at a time, so an interruption or a bad line loses nothing already written. A line
that is not JSON, has no ``turns`` or has a bad turn is reported with its line number and field, left out
of OUT, and makes the exit code 2 once the rest of the file is done. ``--report`` writes counts only:
no original value is ever written anywhere.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click

from transcript_assets.cli.options import transform_jsonl


@click.command("scrub")
@click.argument("in_path", metavar="IN.jsonl", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "-o",
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the scrubbed records (JSON Lines).",
)
@click.option(
    "--mode",
    type=click.Choice(["hipaa", "pii"]),
    default=None,
    help="hipaa: every spoken Safe Harbor identifier; pii: names, contact, address, card/SSN/account, DOB. "
    "Default: by each record's domain (hipaa for healthcare).",
)
@click.option(
    "--replacement",
    type=click.Choice(["surrogate", "mask"]),
    default="surrogate",
    show_default=True,
    help="surrogate: consistent realistic values; mask: typed masks such as [NAME].",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a JSON report: counts per entity kind and per record, errors by line, turns/s.",
)
def scrub(
    in_path: Path, out_path: Path, mode: str | None, replacement: str, report_path: Path | None
) -> None:
    """Scrub PHI / PII from IN.jsonl (output-contract records) into OUT."""
    from transcript_foundry.phi.scrubber import PhiInputError, PhiScrubber

    if out_path.resolve() == in_path.resolve():
        click.echo("error: -o/--out: must not be the input file (it is read while OUT is written)", err=True)
        sys.exit(2)
    scrubber = PhiScrubber(mode=mode, replacement=replacement)  # type: ignore[arg-type]
    per_record: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    turns = 0
    started = time.perf_counter()
    written, errors = transform_jsonl(
        in_path, out_path, scrubber.scrub_record, PhiInputError, id_required=False
    )
    for number, scrubbed in written:
        found = Counter(span["kind"] for span in scrubbed["phi"])
        kinds.update(found)
        turns += len(scrubbed["turns"])
        per_record.append({"line": number, "id": scrubbed.get("id"), "entities": dict(sorted(found.items()))})
    seconds = time.perf_counter() - started
    for error in errors[:30]:
        click.echo(f"error: {in_path}: line {error['line']}: {error['error']}", err=True)
    click.echo(
        f"scrubbed {len(per_record)} transcript(s), {turns} turns, {sum(kinds.values())} identifier(s) "
        f"replaced ({replacement}) → {out_path}"
    )
    if kinds:
        click.echo("  " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    if report_path is not None:
        report = {
            "input": str(in_path),
            "output": str(out_path),
            "mode": mode or "by_domain",
            "replacement": replacement,
            "records_written": len(per_record),
            "records_rejected": len(errors),
            "turns": turns,
            "seconds": round(seconds, 3),
            "turns_per_second": round(turns / seconds, 1) if seconds > 0 else None,
            "entities_by_kind": dict(sorted(kinds.items())),
            "errors": errors,
            "records": per_record,
        }
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if errors:
        click.echo(
            f"error: {len(errors)} line(s) of {in_path} were not scrubbed (see above); fix them and run again",
            err=True,
        )
        sys.exit(2)
