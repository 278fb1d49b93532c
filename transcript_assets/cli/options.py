"""What the commands share: the error exit, domain packs and request parsing, export formats, the
project-local Dagster home, the --domains-dir option, and JSON Lines input read line by line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import (
    DOMAIN_DIRS_ENV,
    DomainPack,
    DomainPackError,
    load_domain_packs,
)
from transcript_foundry.request.explanation import Understanding
from transcript_foundry.settings.environment import (
    project_paths,
)


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def check_node_config() -> None:
    """Read and check the node configuration before any run starts, so that its error (exit 2) is the first
    thing the user sees, not a resource failure from inside a Dagster run."""
    from transcript_foundry.pool.fleet import NodeFleet
    from transcript_foundry.pool.node_spec import NodeConfigError

    try:
        NodeFleet.from_env().check_config()
    except NodeConfigError as exc:
        fail(str(exc))


def domain_packs(domains_dir: tuple[Path, ...]) -> dict[str, DomainPack]:
    if domains_dir:
        existing = os.environ.get(DOMAIN_DIRS_ENV, "")
        os.environ[DOMAIN_DIRS_ENV] = os.pathsep.join(
            [p for p in existing.split(os.pathsep) if p] + [str(d.resolve()) for d in domains_dir]
        )
    try:
        return load_domain_packs()
    except DomainPackError as exc:
        fail(str(exc))
        raise  # unreachable


def job_spec(request: str, packs: dict[str, DomainPack]) -> JobSpec:
    return understood(request, packs).spec


def understood(request: str, packs: dict[str, DomainPack], semantic: bool = True) -> Understanding:
    """The request's JobSpec and readings, or exit 2 with the parser's message."""
    from transcript_foundry.request.parser import RequestError, resolve_understanding

    try:
        return resolve_understanding(request, packs, semantic=semantic)
    except RequestError as exc:
        fail(str(exc))
        raise  # unreachable


def export_formats(formats: str, mapping: str | None) -> list[str]:
    from transcript_foundry.formats.export_formats import ExportError, canonical_format, export_format

    try:
        names = [canonical_format(f) for f in formats.split(",") if f.strip()]
        if mapping:
            export_format("custom_json", mapping)  # a bad mapping fails now, before any generation
    except ExportError as exc:
        fail(f"--formats/--mapping: {exc}")
        raise
    if not names:
        fail("--formats: name at least one of contact_lens, ccai, rasa, custom")
    return list(dict.fromkeys(names))


def prepare_dagster_home() -> Path:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(project_paths().dagster_home))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return home


domains_option = click.option(
    "--domains-dir",
    "domains_dir",
    type=click.Path(path_type=Path, file_okay=False),
    multiple=True,
    help=f"Folder of custom domain packs (<name>.yaml); adds to {DOMAIN_DIRS_ENV}.",
)


def transform_jsonl(
    in_path: Path,
    out_path: Path,
    transform: Callable[[dict[str, Any]], dict[str, Any]],
    input_error: type[Exception],
    *,
    id_required: bool = True,
) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    """Write ``transform(record)`` for each line of IN to OUT, flushed one record at a time (an interruption
    loses nothing written). Each line is read by the lenient transcript reader
    (``transcript_foundry.contract.lenient_transcripts``); a line it refuses, or whose record raises
    ``input_error``, is left out and reported. Returns ((line number, written record) ..., [{line, error} ...])."""
    from transcript_foundry.contract.lenient_transcripts import numbered_records

    written: list[tuple[int, dict[str, Any]]] = []
    errors: list[dict[str, Any]] = []
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with in_path.open(encoding="utf-8") as source, out_path.open("w", encoding="utf-8") as sink:
        for number, record, unreadable in numbered_records(source, id_required=id_required):
            if record is None:
                errors.append({"line": number, "error": unreadable})
                continue
            try:
                result = transform(record)
            except input_error as exc:
                errors.append({"line": number, "error": str(exc)})
                continue
            sink.write(json.dumps(result, ensure_ascii=False) + "\n")
            sink.flush()
            written.append((number, result))
    return written, errors
