"""Reading a hand-written file (a job spec, nodes.yaml, a mapping, a settings file) as UTF-8 text, with
the error a person can act on: not found, unreadable, or not UTF-8 (the byte where it fails)."""

from __future__ import annotations

from pathlib import Path


class TextFileError(ValueError):
    """The file cannot be read as text; the message says why and the fix, without the path (the caller
    puts the path first, in its own error's format)."""


def read_utf8(path: Path, what: str) -> str:
    """The text of ``path``; ``what`` names the file in the message (``"nodes file"``)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TextFileError(f"{what} not found; check the path") from None
    except OSError as exc:
        raise TextFileError(f"cannot read the {what}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise TextFileError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the {what} as UTF-8"
        ) from None
