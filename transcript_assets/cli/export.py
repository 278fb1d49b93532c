"""`transcripts export`: any transcripts file (ours or another tool's) in a platform format, validated."""

from __future__ import annotations

from pathlib import Path

import click

from transcript_assets.cli.options import (
    fail,
)


@click.command("export")
@click.option("--format", "fmt", required=True, help="contact_lens, ccai, rasa or custom (custom_json).")
@click.option("--mapping", help="custom only: contract (default), openai_chat, sharegpt, or a mapping file.")
@click.option(
    "--in",
    "in_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A transcripts.jsonl: what `generate` writes, or any records with id and turns [{speaker, text}].",
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
    from transcript_foundry.contract.lenient_transcripts import (
        TranscriptFileError,
        read_transcripts,
        with_contract_defaults,
    )
    from transcript_foundry.formats.export_formats import ExportError, export_format, write_export

    try:
        exporter = export_format(fmt, mapping)
        records = [with_contract_defaults(r) for r in read_transcripts(in_path)]
    except (ExportError, TranscriptFileError) as exc:
        fail(str(exc))
        raise
    written, problems = write_export(exporter, records, out_dir)
    click.echo(f"{exporter.name}: {len(records)} transcript(s) → {len(written)} file(s) in {out_dir}")
    if problems:
        for problem in problems[:30]:
            click.echo(f"  invalid: {problem}", err=True)
        fail(f"{len(problems)} validation problem(s) in the export", code=1)
    click.echo("  every file validates")
