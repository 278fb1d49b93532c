"""`transcripts status`: requests in the ledger and the state of their slots."""

from __future__ import annotations

import json

import click

from transcript_assets.cli.options import (
    fail,
)
from transcript_foundry.settings.environment import (
    HOME_ENV,
    project_paths,
)


@click.command()
@click.argument("request_id", required=False)
@click.option("--json", "as_json", is_flag=True)
def status(request_id: str | None, as_json: bool) -> None:
    """Show requests in the ledger and the state of their conversation slots."""
    from transcript_foundry.state.ledger import LedgerError, RequestLedger

    ledger = RequestLedger(url=project_paths().state_url)
    try:
        rows = [ledger.get_request(request_id)] if request_id else ledger.list_requests()
    except LedgerError as exc:
        fail(str(exc))
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
