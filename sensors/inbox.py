"""The watched request folder (``intake.inbox``, default ``$TRANSCRIPTS_HOME/inbox``).

Drop a YAML / JSON JobSpec (``.yaml``, ``.yml``, ``.json``) or a plain-English request (any other text
file, e.g. ``.txt``) into it. Each tick the intake sensor reads the files in name order: an accepted file
moves to ``inbox/processed/``, a rejected one to ``inbox/rejected/`` next to ``<name>.error.txt`` naming the
problem. Hidden files and names ending ``.tmp`` / ``.part`` are left alone: write under such a name and
rename when done, so a half-written file is never read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.model import IntakeSettings

PROCESSED = "processed"
REJECTED = "rejected"
IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".swp", ".crdownload")


def inbox_dir(settings: IntakeSettings) -> Path:
    return Path(settings.inbox).expanduser() if settings.inbox else project_paths().home / "inbox"


def pending_files(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        return []
    return sorted(
        p
        for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(IN_PROGRESS_SUFFIXES)
    )


def _move(path: Path, folder: str) -> Path:
    target_dir = path.parent / folder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():  # the same name dropped again: keep both
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
    return path.rename(target)


def mark_processed(path: Path) -> Path:
    return _move(path, PROCESSED)


def mark_rejected(path: Path, problem: str) -> Path:
    moved = _move(path, REJECTED)
    moved.with_name(moved.name + ".error.txt").write_text(
        f"{path.name} was not accepted as a request:\n{problem}\n\n"
        "Fix the file and drop it into the inbox again (see docs/sensors.md).\n",
        encoding="utf-8",
    )
    return moved
