"""One file an export format produces: where it goes (relative to the format's folder) and its text."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ExportFile:
    relative_path: str
    content: str

    def write(self, root: Path) -> Path:
        """Write atomically under ``root``; a reader never sees a half-written file."""
        path = root / self.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
        partial.write_text(self.content, encoding="utf-8")
        partial.replace(path)
        return path
