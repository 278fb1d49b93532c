"""The request planner the sensors drive (``sensors.request_planner.RequestPlanner``), on the ledger.

Parsing (request_parser + domain packs), submission and shard planning are the same code
``transcripts generate`` uses (``request_runner``); only the launching differs: the sensors return
RunRequests instead of executing runs in-process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dagster import DagsterInstance, Definitions

from resources.ledger import Ledger
from resources.request_queue import SUBMITTED
from resources.settings_model import IntakeSettings
from sensors.request_planner import PlannerFactory, RequestRejected
from transcript_assets.domain_pack import DomainPack, load_domain_packs
from transcript_assets.export_formats import canonical_format
from transcript_assets.job_spec import JobSpec
from transcript_assets.partitions import REQUESTS_PARTITION_NAME, SHARDS_PARTITION_NAME
from transcript_assets.request_parser import (
    SPEC_FILE_SUFFIXES,
    RequestError,
    load_job_spec_file,
    parse_request,
)
from transcript_assets.request_runner import RequestRunner, plan_shard, submit_request


class LedgerRequestPlanner:
    shard_partitions = SHARDS_PARTITION_NAME
    request_partitions = REQUESTS_PARTITION_NAME

    def __init__(
        self,
        defs: Definitions,
        instance: DagsterInstance,
        ledger: Ledger,
        packs: dict[str, DomainPack],
        settings: IntakeSettings,
    ):
        self.ledger = ledger
        self.packs = packs
        self.settings = settings
        self.runner = RequestRunner(
            defs,
            instance,
            ledger,
            packs,
            shard_size=settings.shard_size,
            budget_factor=settings.budget_factor,
        )

    def submit_file(self, path: Path) -> tuple[str, bool]:
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
        return plan_shard(
            self.ledger, self.packs, request_id, self.settings.shard_size, self.settings.budget_factor
        )

    def export_assets(self, request_id: str) -> list[str]:
        spec = JobSpec.model_validate(self.ledger.get_request(request_id).spec)
        return [f"{canonical_format(f)}_export" for f in spec.formats]

    def finish(self, request_id: str) -> tuple[str, str | None]:
        summary = self.runner.finish(request_id)
        return summary.status, summary.reason


def planner_factory(defs_getter: Callable[[], Definitions]) -> PlannerFactory:
    """The real PlannerFactory; ``defs_getter`` returns the Definitions (late: the sensors are part of them).

    Domain packs are loaded on each tick, so a new custom pack is picked up without a restart."""

    def make(ledger: Ledger, instance: DagsterInstance, settings: IntakeSettings) -> LedgerRequestPlanner:
        return LedgerRequestPlanner(defs_getter(), instance, ledger, load_domain_packs(), settings)

    return make
