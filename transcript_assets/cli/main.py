"""The `transcripts` command line. Each command lives in a module of its own and is imported only when it
runs (or when its help is shown), so `transcripts --help` and `transcripts plan` start without Dagster,
and `transcripts agent` runs where only the agent extra is installed."""

from __future__ import annotations

import importlib
from typing import Any

import click

from transcript_foundry import __version__

# command name -> "module:attribute" (the click command)
COMMANDS: dict[str, str] = {
    "plan": "transcript_assets.cli.plan:plan",
    "generate": "transcript_assets.cli.generate:generate",
    "export": "transcript_assets.cli.export:export_cmd",
    "status": "transcript_assets.cli.status:status",
    "domains": "transcript_assets.cli.domains:domains",
    "submit": "transcript_assets.cli.submit:submit",
    "scrub": "transcript_assets.cli.scrub:scrub",
    "score": "transcript_assets.cli.score:score",
    "dedup": "transcript_assets.cli.dedup:dedup_command",
    "report": "transcript_assets.cli.report:report_command",
    "nodes": "transcript_assets.cli.nodes:nodes_command",
    "config": "transcript_assets.cli.config:config",
    "metrics": "transcript_assets.cli.metrics:metrics_command",
    "agent": "node_agent.command:agent",
}
# One-line help for the command list, so `transcripts --help` imports no command module.
SUMMARIES: dict[str, str] = {
    "plan": "Parse REQUEST (plain English, or a YAML/JSON JobSpec file) and print the JobSpec.",
    "generate": "Generate transcripts for REQUEST until `count` are accepted; resumes an interrupted run.",
    "export": "Export a transcripts.jsonl file in a platform format, then validate every file written.",
    "status": "Show requests in the ledger and the state of their conversation slots.",
    "domains": "List the domain packs with their scenarios and caller types.",
    "submit": "Queue REQUEST for the request_intake sensor (the Dagster daemon runs it).",
    "scrub": "Scrub PHI/PII from output-contract transcripts (IN.jsonl -> OUT.jsonl).",
    "score": "Score any transcripts with the pipeline's quality discriminator (IN.jsonl -> OUT.jsonl).",
    "dedup": "Drop duplicate transcripts from IN.jsonl, keeping the first of each group.",
    "report": "Write the dataset report (diversity, coverage, realism, plots) of any transcript file.",
    "nodes": "Every LLM node: profile, live state, score components, circuit, limits.",
    "config": "Show and change settings in the state DB.",
    "metrics": "Serve the orchestrator's Prometheus metrics (fleet, circuits, goodput, slots, queue).",
    "agent": "Run the node agent on a generator machine (OpenAI-compatible API in front of a local model).",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: Any = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUMMARIES[name]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="transcripts")
def main() -> None:
    """Transcript Foundry: synthetic contact-center call transcripts from local LLMs, as Dagster assets."""


if __name__ == "__main__":
    main()
