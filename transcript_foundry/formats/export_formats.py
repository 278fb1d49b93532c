"""The export formats a request or `transcripts export` can ask for, behind one interface.

Each format renders records into files under its own folder and validates what it wrote; the CCAI
format also writes a Dialogflow ES agent (intents and training phrases) next to the conversations.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transcript_foundry.contract.job_spec import FORMAT_ALIASES, KNOWN_FORMATS
from transcript_foundry.formats import (
    ccai,
    contact_lens,
    contact_lens_checks,
    custom_mapping,
    dialogflow_es,
    rasa,
)
from transcript_foundry.formats.export_file import ExportFile

Records = list[dict[str, Any]]
FORMAT_NAMES = KNOWN_FORMATS
CCAI_CONVERSATIONS = "conversations"
DIALOGFLOW_AGENT = "dialogflow_es"


class ExportError(ValueError):
    """An unknown format or a bad mapping; the message says which and what is available."""


@dataclass(frozen=True)
class ExportFormat:
    name: str
    render: Callable[[Records], list[ExportFile]]
    validate: Callable[[Path, list[str]], list[str]]


def canonical_format(name: str) -> str:
    key = name.strip().lower()
    key = FORMAT_ALIASES.get(key, key)
    if key not in FORMAT_NAMES:
        raise ExportError(
            f"unknown export format {name!r}; available: {', '.join(FORMAT_NAMES)} (or 'custom')"
        )
    return key


def _prefixed(prefix: str, files: list[ExportFile]) -> list[ExportFile]:
    return [ExportFile(f"{prefix}/{f.relative_path}", f.content) for f in files]


def _ccai_render(records: Records) -> list[ExportFile]:
    return _prefixed(CCAI_CONVERSATIONS, ccai.render(records)) + _prefixed(
        DIALOGFLOW_AGENT, dialogflow_es.render(records)
    )


def _ccai_validate(root: Path, files: list[str]) -> list[str]:
    problems: list[str] = []
    for prefix, module in ((CCAI_CONVERSATIONS, ccai), (DIALOGFLOW_AGENT, dialogflow_es)):
        mine = [f.removeprefix(f"{prefix}/") for f in files if f.startswith(f"{prefix}/")]
        if mine:
            problems += [f"{prefix}/{p}" for p in module.validate(root / prefix, mine)]
    return problems


def export_format(name: str, mapping: str | Path | None = None) -> ExportFormat:
    """The format called ``name``; ``mapping`` (a shipped mapping name or a file) is for custom_json."""
    key = canonical_format(name)
    if key == "custom_json":
        try:
            loaded = custom_mapping.load_mapping(mapping or custom_mapping.DEFAULT_MAPPING)
        except custom_mapping.MappingError as exc:
            raise ExportError(str(exc)) from None
        return ExportFormat(
            name=key,
            render=lambda records: custom_mapping.render(records, loaded),
            validate=lambda root, files: custom_mapping.validate(root, files, loaded),
        )
    if mapping is not None:
        raise ExportError(f"--mapping is for the custom format only, not {key}")
    if key == "contact_lens":
        return ExportFormat(
            key, lambda r: contact_lens.render(r), lambda root, f: contact_lens_checks.validate(root, f)
        )
    if key == "ccai":
        return ExportFormat(key, _ccai_render, _ccai_validate)
    return ExportFormat(key, lambda r: rasa.render(r), lambda root, f: rasa.validate(root, f))


def write_export(fmt: ExportFormat, records: Records, target: Path) -> tuple[list[str], list[str]]:
    """Replace ``target`` with the format's files for ``records``; return (files written, problems).

    The files are written into a staging folder beside ``target``, which then takes its place: a crash
    (``kill -9``, a full disk) at any moment leaves the previous export or the new one, whole, never a mix
    or a half-written file. Staging folders a crashed run left behind are removed first."""
    files = fmt.render(records)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.*-*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    staging.mkdir()
    for f in files:
        f.write(staging)
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired)
    else:
        staging.rename(target)
    written = [f.relative_path for f in files]
    return written, fmt.validate(target, written)
