"""`transcripts plan`: what a request means, as a JobSpec, and how each field was read."""

from __future__ import annotations

import json
from pathlib import Path

import click

from transcript_assets.cli.options import (
    domain_packs,
    domains_option,
    understood,
)


@click.command()
@click.argument("request")
@click.option("--json", "as_json", is_flag=True, help="Print the JobSpec as JSON.")
@click.option(
    "--rules-only",
    is_flag=True,
    help="Read the request by the exact rules only (no embedding model); unreadable fields are refused.",
)
@domains_option
def plan(request: str, as_json: bool, rules_only: bool, domains_dir: tuple[Path, ...]) -> None:
    """Parse REQUEST (plain English, or a YAML/JSON JobSpec file) and print the JobSpec and what was
    understood from which words ("domain telecom from 'ISP outage' ≈ scenario service_outage, 0.71")."""
    reading = understood(request, domain_packs(domains_dir), semantic=not rules_only)
    data = reading.spec.model_dump(mode="json")
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        click.echo(f"{key:>18}: {value}")
    if reading.readings:
        click.echo("understood:")
        for line in reading.explain():
            click.echo(f"  {line}")
