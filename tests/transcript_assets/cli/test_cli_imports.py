"""Commands import only what they use: `--help`, `plan`, `domains` and `agent --help` start without Dagster
and without the curation stack, `plan` even when it matches a request by meaning (bench/cli_startup.py and
bench/request_parsing.py time them)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("dagster", "torch", "presidio_analyzer", "great_expectations", "sentence_transformers", "polars")
PROBE = """
import json, sys
from transcript_assets.cli.main import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy})))
"""


def _loaded(args: list[str]) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *args],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["plan", "Generate 5 retail transcripts with angry callers"],
        ["plan", "18 SIM swap calls"],  # needs the embedding model: numpy MiniLM, not torch
        ["domains"],
        ["agent", "--help"],
    ],
    ids=["help", "plan", "plan-by-meaning", "domains", "agent-help"],
)
def test_light_commands_import_no_dagster_or_curation_stack(args: list[str]) -> None:
    assert _loaded(args) == []


def test_the_probe_sees_a_heavy_import() -> None:
    """The same probe on `generate --help` would pass vacuously if it could not see imports: `status`
    reads the ledger (SQLAlchemy only), so probe a command that does load Dagster."""
    loaded = _loaded(
        ["generate", "Generate 1 retail transcript", "--out", "/nonexistent/x", "--formats", "nope"]
    )
    assert "dagster" not in loaded  # bad input fails before any run is prepared
    out = subprocess.run(
        [sys.executable, "-c", "import sys, transcript_assets.definitions; print('dagster' in sys.modules)"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert out.stdout.strip().endswith("True")
