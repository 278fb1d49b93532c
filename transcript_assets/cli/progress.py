"""The live progress of `transcripts generate` (a bar on a terminal, a line per shard elsewhere) and its
closing summary."""

from __future__ import annotations

import threading
from typing import Any

import click


def print_summary(summary: dict[str, Any]) -> None:
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
    failed_checks = summary.get("failed_checks") or []
    if failed_checks:
        click.echo(
            f"  {len(failed_checks)} blocking check(s) failed (summary.json lists them), e.g. {failed_checks[-1]}"
        )
    if summary.get("report"):
        from transcript_assets.cli.report import format_headline

        click.echo(format_headline(summary["report"]))
    for name, path in summary["paths"].items():
        click.echo(f"  {name}: {path}")


class Progress:
    """A progress bar of shards and accepted conversations, fed from the ledger while runs execute."""

    def __init__(self, enabled: bool, ledger: Any, request_id: str, count: int, plain: bool = False):
        self.enabled = enabled
        self.plain = plain and not enabled
        self.ledger = ledger
        self.request_id = request_id
        self.count = count
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
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
