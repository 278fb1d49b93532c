"""The request planner the intake and activity sensors drive, as an interface.

Sensors may not import ``transcript_assets`` (dependencies point one way), yet parsing a request and
planning a shard's conversations live there. So the sensors take a factory of this Protocol, and
``transcript_assets/definitions.py`` wires in the real one (``transcript_assets/intake_planner.py``).
Tests may inject their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from dagster import DagsterInstance

from resources.ledger import Ledger
from resources.settings_model import IntakeSettings

# The jobs the sensors launch (defined in transcript_assets/jobs.py; a Definitions test checks the names).
GENERATE_SHARD_JOB = "generate_shard"
BUILD_LIBRARY_JOB = "build_library"
EXPORT_REQUEST_JOB = "export_request"


class RequestRejected(ValueError):
    """A request (an inbox file) cannot be accepted; the message names the field and the fix."""


class RequestPlanner(Protocol):
    shard_partitions: str  # the dynamic partitions of the per-shard assets
    request_partitions: str  # the dynamic partitions of the per-request export assets

    def submit_file(self, path: Path) -> tuple[str, bool]:
        """Parse a request file (YAML / JSON JobSpec, or plain-English text) and record it as submitted.

        Returns (request id, whether it is new); raises RequestRejected naming the problem."""
        ...

    def plan_shard(self, request_id: str) -> str | None:
        """Plan the request's next shard in the ledger (no Dagster partition yet); None when none is needed."""
        ...

    def export_assets(self, request_id: str) -> list[str]:
        """Asset keys of the request's export formats."""
        ...

    def finish(self, request_id: str) -> tuple[str, str | None]:
        """Record the outcome (fulfilled / exhausted) and write the request's files; (status, reason)."""
        ...


PlannerFactory = Callable[[Ledger, DagsterInstance, IntakeSettings], RequestPlanner]
