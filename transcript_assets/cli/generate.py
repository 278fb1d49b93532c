"""`transcripts generate`: run a request to completion on the project's Dagster instance."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from transcript_assets.cli.options import (
    check_node_config,
    domain_packs,
    domains_option,
    export_formats,
    fail,
    job_spec,
    prepare_dagster_home,
)
from transcript_assets.cli.progress import Progress, print_summary
from transcript_foundry.settings.environment import (
    MODEL_PATH_ENV,
    NODES_FILE_ENV,
    OPENAI_BASE_URL_ENV,
    OPENAI_MODEL_ENV,
    SEQUENCES_ENV,
    THREADS_ENV,
)


@click.command()
@click.argument("request")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Output folder: transcripts.jsonl, summary.json, exports/<format>/.",
)
@click.option(
    "--shard-size",
    type=click.IntRange(1, 10_000),
    help="Conversations per shard (one Dagster partition); default: the intake.shard_size setting (10).",
)
@click.option(
    "--budget-factor",
    type=click.FloatRange(1.0),
    help="At most count x this many conversation slots are tried before giving up; default: the "
    "intake.budget_factor setting (3).",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help=f"GGUF model for the in-process llama.cpp node (default: the embedded model; {MODEL_PATH_ENV}).",
)
@click.option("--threads", type=click.IntRange(1), help=f"CPU threads for llama.cpp ({THREADS_ENV}).")
@click.option(
    "--sequences",
    type=click.IntRange(1),
    help=f"Conversations the in-process llama.cpp node decodes together (default 4; {SEQUENCES_ENV}).",
)
@click.option(
    "--openai-base-url",
    help=f"An OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 ({OPENAI_BASE_URL_ENV}).",
)
@click.option("--openai-model", help=f"Model name on that server ({OPENAI_MODEL_ENV}).")
@click.option(
    "--nodes",
    "nodes_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help=f"nodes.yaml listing the LLM nodes ({NODES_FILE_ENV}).",
)
@click.option(
    "--formats",
    help="Export formats, comma-separated: contact_lens,ccai,rasa,custom (default: "
    "the request's, custom_json).",
)
@click.option(
    "--mapping", help="Mapping for the custom format: contract (default), openai_chat, sharegpt, or a file."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--no-progress", is_flag=True, help="No progress bar (also off when stderr is not a terminal).")
@domains_option
def generate(
    request: str,
    out_dir: Path,
    shard_size: int | None,
    budget_factor: float | None,
    model_path: Path | None,
    threads: int | None,
    sequences: int | None,
    openai_base_url: str | None,
    openai_model: str | None,
    nodes_file: Path | None,
    formats: str | None,
    mapping: str | None,
    as_json: bool,
    no_progress: bool,
    domains_dir: tuple[Path, ...],
) -> None:
    """Generate transcripts for REQUEST until `count` are accepted; resumes an interrupted run.

    Exits 0 when the request is fulfilled, 1 when the budget ran out first, 2 on bad input.
    """
    packs = domain_packs(domains_dir)
    spec = job_spec(request, packs)
    format_list = export_formats(formats, mapping) if formats else None
    if mapping and "custom_json" not in (format_list or spec.formats):
        fail("--mapping shapes the custom format: add custom to --formats")
    if bool(openai_base_url) != bool(openai_model):
        fail("--openai-base-url and --openai-model go together (the server's URL and the model it serves)")
    for env, value in (
        (MODEL_PATH_ENV, model_path and str(model_path.resolve())),
        (THREADS_ENV, threads and str(threads)),
        (SEQUENCES_ENV, sequences and str(sequences)),
        (OPENAI_BASE_URL_ENV, openai_base_url),
        (OPENAI_MODEL_ENV, openai_model),
        (NODES_FILE_ENV, nodes_file and str(nodes_file.resolve())),
    ):
        if value:
            os.environ[env] = value
    check_node_config()
    prepare_dagster_home()

    from dagster import DagsterInstance

    from transcript_assets.definitions import build_resources, defs
    from transcript_assets.request_runner import RequestRunner, RunFailed
    from transcript_foundry.settings.store import SettingsStore

    ledger = build_resources()["ledger"]
    intake = SettingsStore(ledger.engine).load().settings.intake  # type: ignore[attr-defined]
    shard_size = shard_size or intake.shard_size
    budget_factor = budget_factor or intake.budget_factor
    instance = DagsterInstance.get()
    out_dir.mkdir(parents=True, exist_ok=True)
    runner = RequestRunner(defs, instance, ledger, packs, shard_size=shard_size, budget_factor=budget_factor)  # type: ignore[arg-type]
    request_id = runner.submit(spec, request, out_dir)
    show = not no_progress and not as_json and sys.stderr.isatty()
    click.echo(
        f"request {request_id}: {spec.count} {spec.domain} transcript(s), tone {spec.emotional_tone or 'mixed'}, "
        f"{spec.turn_bounds[0]}-{spec.turn_bounds[1]} turns; Dagster home {os.environ['DAGSTER_HOME']}",
        err=True,
    )
    try:
        with Progress(
            show, ledger, request_id, spec.count, plain=not no_progress and not as_json
        ) as progress:
            runner.on_shard = progress.shard
            summary = runner.run(request_id, format_list, mapping)
    except RunFailed as exc:
        fail(f"{exc}\nNothing finished is lost: re-run the same command to resume.", code=1)
    except KeyboardInterrupt:
        fail("interrupted. Nothing finished is lost: re-run the same command to resume.", code=130)
    data = summary.as_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        print_summary(data)
    # A blocking check of the export run (files_valid, no_planted_phi) failed: the files are not deliverable.
    export_failed = [c for c in summary.failed_checks if c.startswith(f"{request_id}:")]
    if export_failed:
        fail(f"the export did not pass its checks: {export_failed[0]}", code=1)
    sys.exit(0 if summary.fulfilled else 1)
