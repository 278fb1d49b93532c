"""`transcripts domains`: the domain packs, their scenarios and caller types."""

from __future__ import annotations

from pathlib import Path

import click

from transcript_assets.cli.options import (
    domain_packs,
    domains_option,
)


@click.command()
@domains_option
def domains(domains_dir: tuple[Path, ...]) -> None:
    """List the domain packs with their scenarios and caller types."""
    for name, pack in sorted(domain_packs(domains_dir).items()):
        click.echo(f"{name}: {pack.description}")
        click.echo(f"  scenarios: {', '.join(s.id for s in pack.scenarios)}")
        click.echo(f"  caller types: {', '.join(pack.caller_types)}")
