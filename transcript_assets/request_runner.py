"""Driving one request to completion: plan shards, run them through Dagster, top up, report.

Used by ``transcripts generate``. Shards are planned ahead from the yield seen so far, run as real Dagster
runs on the project's instance (so they show up in the UI), folded into the library, and topped up until
``count`` transcripts are accepted or the slot budget is spent. All progress lives in the ledger, so a
re-run of an interrupted request resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dagster import AssetKey, DagsterInstance, Definitions

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.formats.export_formats import canonical_format
from transcript_foundry.request.lifecycle import (
    DEFAULT_BUDGET_FACTOR,
    DEFAULT_SHARD_SIZE,
    REQUESTS_PARTITION_NAME,
    SHARDS_PARTITION_NAME,
    RequestSummary,
    plan_shard,
    submit_request,
    summarize_request,
    write_summary,
)
from transcript_foundry.request.progress import next_shard_size, next_step, slot_budget
from transcript_foundry.state.ledger import RequestLedger


def _step_errors(events: list[Any]) -> list[Any]:
    return [
        e.event_specific_data.error
        for e in events
        if e.is_step_failure and getattr(e.event_specific_data, "error", None) is not None
    ]


def only_failed_checks(events: list[Any]) -> bool:
    """Whether a run failed only because blocking asset checks failed (every failed step says so)."""
    errors = _step_errors(events)
    return bool(errors) and all(err.cls_name == "DagsterAssetCheckFailedError" for err in errors)


class RunFailed(RuntimeError):
    """A Dagster run of a shard or of the library failed; the message carries Dagster's error."""


class RequestRunner:
    def __init__(
        self,
        defs: Definitions,
        instance: DagsterInstance,
        ledger: RequestLedger,
        packs: dict[str, DomainPack],
        *,
        shard_size: int = DEFAULT_SHARD_SIZE,
        budget_factor: float = DEFAULT_BUDGET_FACTOR,
        on_shard: Callable[[str, int, int], None] | None = None,
        log_level: str = "WARNING",
    ):
        if shard_size < 1:
            raise ValueError("shard_size must be at least 1")
        if budget_factor < 1:
            raise ValueError("budget_factor must be at least 1 (slots planned per transcript requested)")
        self.defs = defs
        self.instance = instance
        self.ledger = ledger
        self.packs = packs
        self.shard_size = shard_size
        self.budget_factor = budget_factor
        self.on_shard = on_shard
        self.log_level = log_level
        self.runs: list[str] = []
        self.failed_checks: list[str] = []

    # ---- submission --------------------------------------------------------------------------------
    def submit(self, spec: JobSpec, request_text: str, out_dir: Path | None) -> str:
        return submit_request(self.ledger, spec, request_text, out_dir)[0]

    def slot_budget(self, count: int) -> int:
        return slot_budget(count, self.budget_factor)

    # ---- planning ----------------------------------------------------------------------------------
    def plan_next_shard(self, request_id: str) -> str | None:
        """Plan the next shard of a request (ledger + Dagster partition); None when no more is needed."""
        key = plan_shard(self.ledger, self.packs, request_id, self.shard_size, self.budget_factor)
        if key is not None:
            self.instance.add_dynamic_partitions(SHARDS_PARTITION_NAME, [key])
        return key

    # ---- running -----------------------------------------------------------------------------------
    def _execute(
        self,
        job_name: str,
        partition_key: str | None = None,
        asset_selection: list[AssetKey] | None = None,
        ops_config: dict[str, Any] | None = None,
    ) -> None:
        job = self.defs.resolve_job_def(job_name)
        run_config: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": self.log_level}}}}
        if ops_config:
            run_config["ops"] = ops_config
        result = job.execute_in_process(
            run_config=run_config,
            instance=self.instance,
            partition_key=partition_key,
            asset_selection=asset_selection,
            raise_on_error=False,
        )
        self.runs.append(result.run_id)
        if not result.success and only_failed_checks(result.all_events):
            # A blocking asset check failed (e.g. the shard's pass rate is under the floor): the shard's slots
            # are recorded in the ledger already, so the request goes on and tops up; the summary names it.
            message = _step_errors(result.all_events)[0].message.strip()
            self.failed_checks.append(f"{partition_key or job_name}: {message}")
            return
        if not result.success:
            errors = [
                e.event_specific_data.error.message.strip()  # type: ignore[union-attr]
                for e in result.all_events
                if e.is_failure and getattr(e.event_specific_data, "error", None) is not None
            ]
            detail = errors[0] if errors else "see the run in the Dagster UI"
            where = f" for shard {partition_key}" if partition_key else ""
            raise RunFailed(f"Dagster run {result.run_id} ({job_name}{where}) failed: {detail}")

    def run(
        self, request_id: str, formats: list[str] | None = None, mapping: str | None = None
    ) -> RequestSummary:
        """Generate until fulfilled (or out of budget), then export in ``formats`` (default: the spec's)."""
        started = time.perf_counter()
        request = self.ledger.get_request(request_id)
        spec = JobSpec.model_validate(request.spec)
        shards_run = 0
        pending = self.ledger.unfinished_shards(request_id)  # resume: shards an interrupted run left behind
        if pending:
            self.instance.add_dynamic_partitions(SHARDS_PARTITION_NAME, pending)
            self._execute_shards(pending)
            shards_run += len(pending)
        while True:
            counts = self.ledger.state_counts(request_id)
            size = next_shard_size(counts, spec.count, self.budget_factor, self.shard_size)
            step = next_step(counts, spec.count, [], size)
            if step.kind == "build_library":
                self._execute("build_library")
                continue
            key = self.plan_next_shard(request_id) if step.kind == "plan_shard" else None
            if key is None:
                break
            self._execute_shards([key])
            shards_run += 1
        formats = [canonical_format(f) for f in (formats or spec.formats)]
        if self.ledger.state_counts(request_id)["accepted"]:
            # Exports and the dataset report first, so the summary names a failed export check and
            # carries the report's headline.
            self.export(request_id, formats, mapping)
        summary = self._summarize(request_id, time.perf_counter() - started, shards_run, formats)
        write_summary(summary)
        return summary

    def _summarize(self, request_id: str, wall: float, shards_run: int, formats: list[str]) -> RequestSummary:
        return summarize_request(
            self.ledger,
            request_id,
            budget_factor=self.budget_factor,
            wall=wall,
            shards_run=shards_run,
            formats=formats,
            runs=self.runs,
            failed_checks=self.failed_checks,
        )

    def export(self, request_id: str, formats: list[str], mapping: str | None = None) -> None:
        """Materialize the request's export assets for ``formats`` and its dataset report (one Dagster run)."""
        self.instance.add_dynamic_partitions(REQUESTS_PARTITION_NAME, [request_id])
        keys = [AssetKey(f"{canonical_format(f)}_export") for f in formats] + [AssetKey("dataset_report")]
        ops_config = {"custom_json_export": {"config": {"mapping": mapping}}} if mapping else None
        self._execute("export_request", request_id, asset_selection=keys, ops_config=ops_config)

    def _execute_shards(self, keys: list[str]) -> None:
        for i, key in enumerate(keys):
            if self.on_shard:
                self.on_shard(key, i, len(keys))
            self._execute("generate_shard", key)
