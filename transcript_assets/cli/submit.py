"""`transcripts submit`: queue a request for the request_intake sensor without running it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from transcript_assets.cli.options import domain_packs, domains_option, job_spec
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.state.ledger import RequestLedger
from transcript_foundry.state.request_queue import SUBMITTED, RequestQueue


@click.command("submit")
@click.argument("request")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (transcripts.jsonl, summary.json, exports/); default: $TRANSCRIPTS_HOME/exports.",
)
@domains_option
@click.option("--json", "as_json", is_flag=True, help="Print the request id and status as JSON.")
def submit(request: str, out_dir: Path | None, domains_dir: tuple[Path, ...], as_json: bool) -> None:
    """Queue REQUEST (plain English, or a YAML/JSON JobSpec file) for the request_intake sensor.

    Nothing runs here: the sensor plans its shards and launches the runs on its next tick while the
    Dagster daemon runs (`dagster dev` or `dagster-daemon run`).
    """
    from transcript_foundry.request.lifecycle import submit_request

    spec = job_spec(request, domain_packs(domains_dir))
    ledger = RequestLedger(url=project_paths().state_url)
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    request_id, new = submit_request(ledger, spec, request, out_dir, status=SUBMITTED)
    RequestQueue(ledger.engine).record_source(request_id, "cli")
    status = ledger.get_request(request_id).status
    if as_json:
        click.echo(json.dumps({"request_id": request_id, "status": status, "new": new}))
        return
    known = "submitted" if new else f"already known, status {status}"
    click.echo(f"request {request_id}: {spec.count} {spec.domain} transcript(s), {known}")
    click.echo(f"  watch it:  transcripts status {request_id}")
    click.echo(
        "  the request_intake sensor picks it up within 30 s while the Dagster daemon runs:\n"
        f"    DAGSTER_HOME={project_paths().dagster_home} dagster dev -w workspace.yaml"
    )
