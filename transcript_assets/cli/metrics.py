"""`transcripts metrics [--port 9464] [--host 127.0.0.1]`: the orchestrator's Prometheus exporter.

It reads the fleet (configured nodes, agents' heartbeats, the sensors' controls, the settings) and the
state DB (circuit events, performance windows, the ledger) at every scrape and serves them on
``/metrics`` until interrupted. Run it next to the Dagster daemon; see docs/metrics.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from transcript_foundry.settings.environment import NODES_FILE_ENV, project_paths


@click.command("metrics")
@click.option("--port", default=9464, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: all).")
@click.option(
    "--nodes",
    "nodes_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"nodes.yaml listing the LLM nodes ({NODES_FILE_ENV}).",
)
def metrics_command(port: int, host: str, nodes_file: Path | None) -> None:
    """Serve the orchestrator's metrics (fleet, circuits, goodput, slots, queue) for Prometheus."""
    from prometheus_client import CollectorRegistry

    from transcript_foundry.pool.fleet import NodeFleet
    from transcript_foundry.pool.metrics import FleetCollector, serve_metrics

    overrides = {"nodes_file": str(nodes_file.resolve())} if nodes_file is not None else {}
    fleet = NodeFleet.from_env(state_url=project_paths().state_url, **overrides)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(fleet, refresh=True, circuits_from_events=True))
    server, _ = serve_metrics(registry, port, host)
    click.echo(f"serving orchestrator metrics on http://{host}:{port}/metrics (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        fleet.close()
