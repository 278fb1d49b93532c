"""The request planner the intake and activity sensors drive: inbox files become requests in the ledger,
requests get their next shard planned, finished requests get their outcome recorded.

Parsing (the request parser and the domain packs), submission, shard planning and the outcome are the
library's request lifecycle (transcript_foundry/request/lifecycle.py), the same code ``transcripts
generate`` runs; only the launching differs: the sensors return RunRequests instead of executing runs
in-process. Domain packs are loaded on each tick, so a new custom pack is picked up without a restart.
"""

from __future__ import annotations

from pathlib import Path

from transcript_assets.jobs import build_library_job, export_request_job, generate_shard_job
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import DomainPack, load_domain_packs
from transcript_foundry.formats.export_formats import canonical_format
from transcript_foundry.request.lifecycle import (
    REQUESTS_PARTITION_NAME,
    SHARDS_PARTITION_NAME,
    plan_shard,
    submit_request,
    summarize_request,
    write_summary,
)
from transcript_foundry.request.parser import (
    SPEC_FILE_SUFFIXES,
    RequestError,
    load_job_spec_file,
    parse_request,
)
from transcript_foundry.settings.model import IntakeSettings
from transcript_foundry.state.ledger import RequestLedger
from transcript_foundry.state.request_queue import SUBMITTED

# The jobs the sensors launch.
GENERATE_SHARD_JOB = generate_shard_job.name
BUILD_LIBRARY_JOB = build_library_job.name
EXPORT_REQUEST_JOB = export_request_job.name


class RequestRejected(ValueError):
    """A request (an inbox file) cannot be accepted; the message names the field and the fix."""


class RequestPlanner:
    shard_partitions = SHARDS_PARTITION_NAME  # the dynamic partitions of the per-shard assets
    request_partitions = REQUESTS_PARTITION_NAME  # the dynamic partitions of the per-request export assets

    def __init__(
        self, ledger: RequestLedger, settings: IntakeSettings, packs: dict[str, DomainPack] | None = None
    ):
        self.ledger = ledger
        self.settings = settings
        self.packs = packs if packs is not None else load_domain_packs()

    def submit_file(self, path: Path) -> tuple[str, bool]:
        """Parse a request file (YAML / JSON JobSpec, or plain-English text) and record it as submitted.

        Returns (request id, whether it is new); raises RequestRejected naming the problem."""
        try:
            if path.suffix.lower() in SPEC_FILE_SUFFIXES:
                spec = load_job_spec_file(path, self.packs)
                text = f"{path.name}: {spec.count} {spec.domain} transcripts"
            else:
                text = path.read_text(encoding="utf-8").strip()
                spec = parse_request(text, self.packs)
        except RequestError as exc:
            raise RequestRejected(str(exc)) from None
        except UnicodeDecodeError:
            raise RequestRejected(
                f"{path.name}: not a text file; drop a YAML/JSON JobSpec or a plain-English request"
            ) from None
        except OSError as exc:
            raise RequestRejected(f"{path.name}: cannot read it: {exc.strerror}") from None
        return submit_request(self.ledger, spec, text, None, status=SUBMITTED)

    def plan_shard(self, request_id: str) -> str | None:
        """Plan the request's next shard in the ledger (no Dagster partition yet); None when none is needed."""
        return plan_shard(
            self.ledger, self.packs, request_id, self.settings.shard_size, self.settings.budget_factor
        )

    def export_assets(self, request_id: str) -> list[str]:
        """Asset keys of the request's export formats, and its dataset report."""
        spec = JobSpec.model_validate(self.ledger.get_request(request_id).spec)
        return [f"{canonical_format(f)}_export" for f in spec.formats] + ["dataset_report"]

    def finish(self, request_id: str) -> tuple[str, str | None]:
        """Record the outcome (fulfilled / exhausted) and write the request's files; (status, reason)."""
        summary = summarize_request(self.ledger, request_id, budget_factor=self.settings.budget_factor)
        write_summary(summary)
        return summary.status, summary.reason
