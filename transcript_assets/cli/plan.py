"""`transcripts plan`: what a request means, as a JobSpec."""

from __future__ import annotations

import json
from pathlib import Path

import click

from transcript_assets.cli.options import (
    domain_packs,
    domains_option,
    job_spec,
)


@click.command()
@click.argument("request")
@click.option("--json", "as_json", is_flag=True, help="Print the JobSpec as JSON.")
@domains_option
def plan(request: str, as_json: bool, domains_dir: tuple[Path, ...]) -> None:
    """Parse REQUEST (plain English, or a YAML/JSON JobSpec file) and print the JobSpec."""
    spec = job_spec(request, domain_packs(domains_dir))
    data = spec.model_dump(mode="json")
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        click.echo(f"{key:>18}: {value}")
