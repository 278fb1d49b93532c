"""`transcripts nodes [--json]`: every known LLM node with its profile, live state, score, circuit,
concurrency limit, controls and recent events."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from transcript_foundry.pool.node_spec import NodeConfigError
from transcript_foundry.settings.environment import NODES_FILE_ENV, project_paths


def _temperature(value: float | None) -> str:
    return f"{value:.0f} C" if value is not None else "n/a"


def _describe(report: dict[str, Any]) -> list[str]:
    verdict = (
        f"eligible, score {report['score']:.3f}"
        if report["eligible"]
        else f"EXCLUDED: {report['excluded_because']}"
    )
    parts = ", ".join(f"{k} {v:.2f}" for k, v in report["components"].items())
    lines = [
        f"{report['node_id']}  [{report['source']}, {report['backend']}, {report['model']}]  {verdict}",
        f"  components: {parts}",
        f"  circuit {report['circuit']}; concurrency limit {report['concurrency_limit']} "
        f"(bounds {report['concurrency_bounds'][0]}-{report['concurrency_bounds'][1]})",
    ]
    if report["url"]:
        lines.append(f"  url {report['url']}; context {report['context_window']} tokens")
    controls = report["controls"]
    if controls["state"] != "normal":
        lines.append(
            f"  controls: {controls['state']} (x{controls['throttle_factor']:g}) by {controls['source']}: "
            f"{controls['reason']}"
        )
    profile = report["profile"]
    if profile:
        lines.append(
            f"  profile: {profile['node_type']} {profile['architecture']}, {profile['cpu_cores']} cores, "
            f"{profile['ram_mb']} MB RAM, {profile['gpu_count']} GPU ({profile['gpu_memory_mb']} MB)"
        )
    live = report["live"]
    if live:
        lines.append(
            f"  live: CPU {_temperature(live['cpu_temp_c'])}, GPU {_temperature(live['gpu_temp_c'])}, "
            f"free VRAM {live['gpu_memory_free_mb'] if live['gpu_memory_free_mb'] is not None else 'n/a'} MB, "
            f"{len(live['other_gpu_processes'])} other GPU processes"
        )
        for probe, why in sorted(live["unavailable"].items()):
            lines.append(f"    unavailable {probe}: {why}")
    if report["heartbeat_age_s"] is not None:
        lines.append(f"  heartbeat {report['heartbeat_age_s']:.0f} s ago")
    signals = report["server_signals"]
    if signals and (signals["waiting"] is not None or signals["slots_total"] is not None):
        lines.append(
            f"  server: {signals['running']} running, {signals['waiting']} waiting, "
            f"slots {signals['slots_busy']}/{signals['slots_total']}"
        )
    sample = report["last_sample"]
    if sample:
        lines.append(
            f"  last window: {sample['throughput_per_sec']:.1f} tokens/s at concurrency {sample['concurrency']}, "
            f"p95 {sample['p95_latency_ms']:.0f} ms, errors {sample['error_rate']:.0%}"
        )
    for event in report["recent_events"]:
        lines.append(
            f"  event {event['timestamp']}: {event['from_state']} -> {event['to_state']} "
            f"({event['source']}: {event['reason']})"
        )
    return lines


@click.command("nodes")
@click.option(
    "--nodes",
    "nodes_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"nodes.yaml listing the LLM nodes ({NODES_FILE_ENV}).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the nodes as JSON.")
@click.option("--no-probe", is_flag=True, help="Do not ask HTTP nodes for /metrics, /slots and /v1/models.")
def nodes_command(nodes_file: Path | None, as_json: bool, no_probe: bool) -> None:
    """Every known LLM node: profile, live state, score, circuit, concurrency, controls, events."""
    from transcript_foundry.pool.fleet import NodeFleet
    from transcript_foundry.pool.node_report import node_reports

    overrides = {"nodes_file": str(nodes_file.resolve())} if nodes_file is not None else {}
    pool = NodeFleet.from_env(state_url=project_paths().state_url, **overrides)
    try:
        reports = node_reports(pool, probe_servers=not no_probe)
    except NodeConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        pool.close()
    if as_json:
        click.echo(json.dumps(reports, indent=2, default=str))
        return
    for report in reports:
        click.echo("\n".join(_describe(report)))
