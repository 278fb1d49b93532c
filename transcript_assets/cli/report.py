"""`transcripts report IN.jsonl -o DIR`: the dataset report of any transcript file.

Each line of IN is a transcript record, read by the lenient transcript reader
(``transcript_foundry.contract.lenient_transcripts``): the output contract, or another tool's record with
only ``turns: [{speaker, text}]`` (``id``, ``domain``, ``scenario``, ``emotional_tone`` ... are used when present). DIR gets
report.json, a self-contained report.html and plots/*.svg: diversity, coverage (against ``--request`` when
given: what the set was asked for, in plain English or a JobSpec file), realism of the customer turns against
real callers (``--reference``, default: the shipped DSTC11 customer utterances) and, for records that carry
``planted`` slot records, planted-identifier recall. A bad line is reported with its number and field and
left out; the report covers the rest, and the exit code is 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from transcript_assets.cli.options import domain_packs, domains_option, fail, job_spec


@click.command("report")
@click.argument("in_path", metavar="IN.jsonl", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--reference",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="Real customer utterances to compare with: JSONL (utterance or text per line), a text file (one per "
    "line) or a folder of JSONL files. Default: the shipped DSTC11 customer turns.",
)
@click.option(
    "--request", "request", default=None, help="What the set was asked for (plain English or a JobSpec file)."
)
@click.option(
    "--no-embeddings", is_flag=True, help="Skip the MiniLM parts (embedding spread, classifier test)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the headline as JSON on stdout.")
@domains_option
def report_command(
    in_path: Path,
    out_dir: Path,
    reference: Path | None,
    request: str | None,
    no_embeddings: bool,
    as_json: bool,
    domains_dir: tuple[Path, ...],
) -> None:
    """Write the dataset report of IN.jsonl into DIR."""
    import json

    from transcript_foundry.contract.lenient_transcripts import numbered_records
    from transcript_foundry.report.coverage import requested_from_spec
    from transcript_foundry.report.dataset_report import build_report, write_report
    from transcript_foundry.report.realism import ReferenceError, load_reference

    try:
        real = load_reference(reference)
    except ReferenceError as exc:
        fail(str(exc))
        raise
    requested = None
    if request is not None:
        packs = domain_packs(domains_dir)
        spec = job_spec(request, packs)
        requested = requested_from_spec(spec, packs.get(spec.domain))
    records: list[dict[str, Any]] = []
    errors: list[str] = []
    with in_path.open(encoding="utf-8") as source:
        for number, record, problem in numbered_records(source, id_required=False):
            if record is None:
                errors.append(f"{in_path}: line {number}: {problem}")
            else:
                records.append(record)
    for error in errors[:30]:
        click.echo(f"error: {error}", err=True)
    if not records:
        fail(f"{in_path}: no transcript to report on (every line had a problem, or the file is empty)")
    embed_calls = encode = None
    if not no_embeddings:
        from transcript_foundry.dedup.call_embeddings import call_embedder
        from transcript_foundry.quality.coherence.embedding import default_encoder

        embed_calls, encode = call_embedder(None)[0], default_encoder()
    report = build_report(
        records,
        title=in_path.name,
        requested=requested,
        reference=real,
        embed_calls=embed_calls,
        encode=encode,
    )
    paths = write_report(report, out_dir)
    headline = report.headline()
    if as_json:
        click.echo(json.dumps(headline))
    else:
        click.echo(format_headline(headline))
        click.echo(f"  report: {paths['html']}")
    if errors:
        fail(f"{len(errors)} line(s) of {in_path} were left out (see above); fix them and run again")


def format_headline(headline: dict[str, Any]) -> str:
    """One or two lines a person reads after a run."""

    def show(key: str) -> str:
        value = headline.get(key)
        return "–" if value is None else f"{value}"

    lines = [
        f"  dataset: {show('transcripts')} transcripts · distinct-2 {show('distinct_2')} · self-BLEU "
        f"{show('self_bleu')} · embedding spread {show('embedding_spread')} · {show('coverage_gaps')} coverage gap(s)",
        f"  realism vs real callers: classifier AUC {show('realism_classifier_auc')} (0.5 = indistinguishable) · "
        f"turn-length KS {show('length_ks_statistic')}"
        + (
            f" · planted PHI recall {show('planted_phi_recall')}"
            if headline.get("planted_phi_recall") is not None
            else ""
        ),
    ]
    return "\n".join(lines)
