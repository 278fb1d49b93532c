"""The `transcripts` command line: plan, generate, status, domains."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import click

from resources.settings import (
    HOME_ENV,
    MODEL_PATH_ENV,
    NODES_FILE_ENV,
    OPENAI_BASE_URL_ENV,
    OPENAI_MODEL_ENV,
    SEQUENCES_ENV,
    THREADS_ENV,
    project_paths,
)
from transcript_assets.domain_pack import DOMAIN_DIRS_ENV, DomainPack, DomainPackError, load_domain_packs
from transcript_assets.job_spec import JobSpec


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _packs(domains_dir: tuple[Path, ...]) -> dict[str, DomainPack]:
    if domains_dir:
        existing = os.environ.get(DOMAIN_DIRS_ENV, "")
        os.environ[DOMAIN_DIRS_ENV] = os.pathsep.join(
            [p for p in existing.split(os.pathsep) if p] + [str(d.resolve()) for d in domains_dir]
        )
    try:
        return load_domain_packs()
    except DomainPackError as exc:
        _fail(str(exc))
        raise  # unreachable


def _spec(request: str, packs: dict[str, DomainPack]) -> JobSpec:
    from transcript_assets.request_parser import RequestError, resolve_request

    try:
        return resolve_request(request, packs)
    except RequestError as exc:
        _fail(str(exc))
        raise  # unreachable


def _formats(formats: str, mapping: str | None) -> list[str]:
    from transcript_assets.export_formats import ExportError, canonical_format, export_format

    try:
        names = [canonical_format(f) for f in formats.split(",") if f.strip()]
        if mapping:
            export_format("custom_json", mapping)  # a bad mapping fails now, before any generation
    except ExportError as exc:
        _fail(f"--formats/--mapping: {exc}")
        raise
    if not names:
        _fail("--formats: name at least one of contact_lens, ccai, rasa, custom")
    return list(dict.fromkeys(names))


def _prepare_dagster_home() -> Path:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(project_paths().dagster_home))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return home


domains_option = click.option(
    "--domains-dir",
    "domains_dir",
    type=click.Path(path_type=Path, file_okay=False),
    multiple=True,
    help=f"Folder of custom domain packs (<name>.yaml); adds to {DOMAIN_DIRS_ENV}.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="transcript-foundry")
def main() -> None:
    """Transcript Foundry: synthetic contact-center call transcripts from local LLMs, as Dagster assets."""


@main.command()
@click.argument("request")
@click.option("--json", "as_json", is_flag=True, help="Print the JobSpec as JSON.")
@domains_option
def plan(request: str, as_json: bool, domains_dir: tuple[Path, ...]) -> None:
    """Parse REQUEST (plain English, or a YAML/JSON JobSpec file) and print the JobSpec."""
    spec = _spec(request, _packs(domains_dir))
    data = spec.model_dump(mode="json")
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        click.echo(f"{key:>18}: {value}")


def _print_summary(summary: dict[str, Any]) -> None:
    state = "fulfilled" if summary["fulfilled"] else "NOT fulfilled"
    click.echo(f"\nrequest {summary['request_id']}: {state}")
    click.echo(
        f"  accepted {summary['accepted']}/{summary['count']} · rejected (quality) {summary['rejected_quality']} · "
        f"duplicate {summary['duplicate']} · failed {summary['failed']}"
        + (f" · surplus in library {len(summary['surplus_accepted'])}" if summary["surplus_accepted"] else "")
    )
    click.echo(
        f"  {summary['wall_seconds']:.1f} s · {summary['accepted_tokens_per_second']:.1f} accepted output tokens/s · "
        f"{summary['conversations_per_hour']:.0f} conversations/hour · {summary['shards']} shard run(s)"
    )
    if summary["failure_reasons"]:
        click.echo("  top reasons:")
        for reason, n in list(summary["failure_reasons"].items())[:5]:
            click.echo(f"    {n:>3} × {reason}")
    if summary["reason"]:
        click.echo(f"  {summary['reason']}")
    for name, path in summary["paths"].items():
        click.echo(f"  {name}: {path}")


class _Progress:
    """A progress bar of shards and accepted conversations, fed from the ledger while runs execute."""

    def __init__(self, enabled: bool, ledger: Any, request_id: str, count: int, plain: bool = False):
        self.enabled = enabled
        self.plain = plain and not enabled
        self.ledger = ledger
        self.request_id = request_id
        self.count = count
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Progress:
        if not self.enabled:
            return self
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=False,
        )
        self.accepted_task = self.progress.add_task("conversations passed", total=self.count)
        self.done_task = self.progress.add_task("slots finished (any state)", total=None)
        self.shard_task = self.progress.add_task("shard runs", total=None)
        self.progress.start()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def shard(self, key: str, index: int, total: int) -> None:
        if self.enabled:
            self.progress.update(self.shard_task, description=f"shard {key}", advance=1)
        elif self.plain:  # logs and CI: one line per shard instead of a bar
            counts = self.ledger.state_counts(self.request_id)
            good = counts["accepted"] + counts["passed"]
            click.echo(f"shard {key} starting · {good}/{self.count} passed the quality gate so far", err=True)

    def _refresh(self) -> None:
        counts = self.ledger.state_counts(self.request_id)
        finished = sum(counts[s] for s in ("accepted", "rejected_quality", "duplicate", "failed"))
        good = counts["accepted"] + counts["passed"]  # passed: waiting for the library's dedup
        self.progress.update(self.accepted_task, completed=min(good, self.count))
        self.progress.update(
            self.done_task, completed=finished + counts["passed"], total=sum(counts.values()) or None
        )

    def _poll(self) -> None:
        while not self._stop.wait(1.0):
            self._refresh()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._stop.set()
            if self._thread:
                self._thread.join()
            self._refresh()
            self.progress.stop()


@main.command()
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
    default=10,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Conversations per shard (one Dagster partition).",
)
@click.option(
    "--budget-factor",
    default=3.0,
    show_default=True,
    type=click.FloatRange(1.0),
    help="At most count x this many conversation slots are tried before giving up.",
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
    shard_size: int,
    budget_factor: float,
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
    packs = _packs(domains_dir)
    spec = _spec(request, packs)
    format_list = _formats(formats, mapping) if formats else None
    if mapping and "custom_json" not in (format_list or spec.formats):
        _fail("--mapping shapes the custom format: add custom to --formats")
    if bool(openai_base_url) != bool(openai_model):
        _fail("--openai-base-url and --openai-model go together (the server's URL and the model it serves)")
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
    _prepare_dagster_home()

    from dagster import DagsterInstance

    from transcript_assets.definitions import build_resources, defs
    from transcript_assets.request_runner import RequestRunner, RunFailed

    ledger = build_resources()["ledger"]
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
        with _Progress(
            show, ledger, request_id, spec.count, plain=not no_progress and not as_json
        ) as progress:
            runner.on_shard = progress.shard
            summary = runner.run(request_id, format_list, mapping)
    except RunFailed as exc:
        _fail(f"{exc}\nNothing finished is lost: re-run the same command to resume.", code=1)
    except KeyboardInterrupt:
        _fail("interrupted. Nothing finished is lost: re-run the same command to resume.", code=130)
    data = summary.as_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        _print_summary(data)
    sys.exit(0 if summary.fulfilled else 1)


@main.command("export")
@click.option("--format", "fmt", required=True, help="contact_lens, ccai, rasa or custom (custom_json).")
@click.option("--mapping", help="custom only: contract (default), openai_chat, sharegpt, or a mapping file.")
@click.option(
    "--in",
    "in_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A transcripts.jsonl in the output contract (what `generate` writes).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to write the export into (replaced if it exists).",
)
def export_cmd(fmt: str, mapping: str | None, in_path: Path, out_dir: Path) -> None:
    """Export a transcripts.jsonl file in a platform format, then validate every file written."""
    from transcript_assets.export_formats import ExportError, export_format, write_export
    from transcript_assets.transcript_file import TranscriptFileError, read_transcripts

    try:
        exporter = export_format(fmt, mapping)
        records = read_transcripts(in_path)
    except (ExportError, TranscriptFileError) as exc:
        _fail(str(exc))
        raise
    written, problems = write_export(exporter, records, out_dir)
    click.echo(f"{exporter.name}: {len(records)} transcript(s) → {len(written)} file(s) in {out_dir}")
    if problems:
        for problem in problems[:30]:
            click.echo(f"  invalid: {problem}", err=True)
        _fail(f"{len(problems)} validation problem(s) in the export", code=1)
    click.echo("  every file validates")


@main.command()
@click.argument("request_id", required=False)
@click.option("--json", "as_json", is_flag=True)
def status(request_id: str | None, as_json: bool) -> None:
    """Show requests in the ledger and the state of their conversation slots."""
    from resources.ledger import Ledger, LedgerError

    ledger = Ledger(url=project_paths().state_url)
    try:
        rows = [ledger.get_request(request_id)] if request_id else ledger.list_requests()
    except LedgerError as exc:
        _fail(str(exc))
        raise
    data = [
        {
            "request_id": r.request_id,
            "status": r.status,
            "count": r.count,
            "request": r.request_text,
            "out_dir": r.out_dir,
            "slots": ledger.state_counts(r.request_id),
        }
        for r in rows
    ]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if not data:
        click.echo(f"no requests yet in {project_paths().state_url} ({HOME_ENV})")
    for d in data:
        slots = ", ".join(f"{k} {v}" for k, v in d["slots"].items() if v)
        click.echo(
            f"{d['request_id']}  {d['status']:<9} {d['count']:>6} wanted · {slots or 'no slots'} · {d['request']}"
        )


@main.command()
@domains_option
def domains(domains_dir: tuple[Path, ...]) -> None:
    """List the domain packs with their scenarios and caller types."""
    for name, pack in sorted(_packs(domains_dir).items()):
        click.echo(f"{name}: {pack.description}")
        click.echo(f"  scenarios: {', '.join(s.id for s in pack.scenarios)}")
        click.echo(f"  caller types: {', '.join(pack.caller_types)}")


from node_agent.command import agent as agent_command  # noqa: E402
from transcript_assets.config_command import config  # noqa: E402
from transcript_assets.dedup_command import dedup_command  # noqa: E402
from transcript_assets.nodes_command import nodes_command  # noqa: E402  (registered below)
from transcript_assets.scrub_command import scrub  # noqa: E402
from transcript_assets.submit_command import submit  # noqa: E402

main.add_command(agent_command, "agent")
main.add_command(nodes_command)
main.add_command(submit)
main.add_command(config)
main.add_command(dedup_command)
main.add_command(scrub)

if __name__ == "__main__":
    main()
