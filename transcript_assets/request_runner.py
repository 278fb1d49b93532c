"""Driving one request to completion: plan shards, run them through Dagster, top up, report.

Used by ``transcripts generate``. Shards are planned ahead from the yield seen so far, run as real Dagster
runs on the project's instance (so they show up in the UI), folded into the library, and topped up until
``count`` transcripts are accepted or the slot budget is spent. All progress lives in the ledger, so a
re-run of an interrupted request resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dagster import AssetKey, DagsterInstance, Definitions

from resources.ledger import Ledger
from resources.request_progress import next_shard_size, next_step, slot_budget
from transcript_assets.conversation_plan import plan_conversation
from transcript_assets.domain_pack import DomainPack
from transcript_assets.export_formats import canonical_format
from transcript_assets.job_spec import JobSpec
from transcript_assets.jsonl_file import write_jsonl
from transcript_assets.partitions import REQUESTS_PARTITION_NAME, SHARDS_PARTITION_NAME, shard_key

DEFAULT_SHARD_SIZE = 10
DEFAULT_BUDGET_FACTOR = 3.0


def _reason_key(state: str, reason: str) -> str:
    """The specific cause of a slot's reason, so that equal causes count together in the summary."""
    if state == "failed":  # "attempt 3 on local: turn 5 (CUSTOMER) degenerate after 3 tries: ..."
        return re.sub(r"^attempt \d+ on [^:]+: ", "", reason)[:110]
    parts = [p.strip() for p in reason.split(";") if p.strip() and not p.strip().startswith("overall ")]
    return re.sub(r"\d+(?:\.\d+)?", "N", (parts or [reason])[0])[:110]


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


@dataclass
class RequestSummary:
    request_id: str
    request_text: str
    count: int
    accepted: int
    surplus_accepted: list[str]
    rejected_quality: int
    duplicate: int
    failed: int
    in_progress: int
    fulfilled: bool
    status: str
    reason: str | None
    shards: int
    dagster_runs: list[str]
    wall_seconds: float
    output_tokens: int
    accepted_output_tokens: int
    accepted_tokens_per_second: float
    conversations_per_hour: float
    failure_reasons: dict[str, int] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)  # blocking asset checks that failed a shard
    paths: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def request_id_for(spec: JobSpec, out_dir: Path | None) -> str:
    """Same spec (export formats aside) and output folder = same request: a re-run resumes it."""
    where = str(out_dir.resolve()) if out_dir else ""
    identity = spec.model_copy(update={"formats": ["custom_json"]}).canonical_json()
    return "r" + hashlib.sha256(f"{identity}|{where}".encode()).hexdigest()[:11]


def effective_seed(spec: JobSpec, request_id: str) -> int:
    return spec.seed if spec.seed is not None else int(request_id[1:9], 16) & 0x7FFFFFFF


def submit_request(
    ledger: Ledger, spec: JobSpec, request_text: str, out_dir: Path | None, *, status: str = "open"
) -> tuple[str, bool]:
    """Record the request in the ledger (``status`` when it is new); (request id, whether it was new)."""
    request_id = request_id_for(spec, out_dir)
    created = ledger.create_request(
        request_id,
        request_text,
        spec.model_dump(mode="json"),
        spec.count,
        effective_seed(spec, request_id),
        str(out_dir.resolve()) if out_dir else None,
    )
    if created and status != "open":
        ledger.set_request_status(request_id, status)
    return request_id, created


def plan_shard(
    ledger: Ledger, packs: dict[str, DomainPack], request_id: str, shard_size: int, budget_factor: float
) -> str | None:
    """Plan the next shard of a request in the ledger (its conversation plans); None when none is needed.

    Sized by the yield seen so far, so little is generated past ``count``. The caller adds the Dagster
    partition (in-process, or in a sensor's SensorResult).
    """
    request = ledger.get_request(request_id)
    spec = JobSpec.model_validate(request.spec)
    size = next_shard_size(ledger.state_counts(request_id), spec.count, budget_factor, shard_size)
    if size <= 0:
        return None
    pack = packs[spec.domain]
    next_index = ledger.next_slot_index(request_id)
    key = shard_key(request_id, len(ledger.shard_keys(request_id)))
    plans = [
        plan_conversation(spec, pack, request_id, request.seed, i).model_dump(mode="json")
        for i in range(next_index, next_index + size)
    ]
    ledger.add_shard(key, request_id, plans)
    return key


class RequestRunner:
    def __init__(
        self,
        defs: Definitions,
        instance: DagsterInstance,
        ledger: Ledger,
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
        summary = self._finish(request_id, spec, time.perf_counter() - started, shards_run, formats)
        if summary.accepted:
            self.export(request_id, formats, mapping)
            summary.dagster_runs = list(self.runs)
        self._write_summary(summary)
        return summary

    def finish(self, request_id: str) -> RequestSummary:
        """Record the outcome of a request the sensors drove (its runs went through the daemon): status,
        transcripts.jsonl and summary.json. Timings and rates are left at 0: its runs were not timed here."""
        spec = JobSpec.model_validate(self.ledger.get_request(request_id).spec)
        formats = [canonical_format(f) for f in spec.formats]
        summary = self._finish(request_id, spec, 0.0, len(self.ledger.shard_keys(request_id)), formats)
        self._write_summary(summary)
        return summary

    @staticmethod
    def _write_summary(summary: RequestSummary) -> None:
        if "summary" in summary.paths:
            Path(summary.paths["summary"]).write_text(
                json.dumps(summary.as_dict(), indent=2) + "\n", encoding="utf-8"
            )

    def export(self, request_id: str, formats: list[str], mapping: str | None = None) -> None:
        """Materialize the request's export assets for ``formats`` (one Dagster run)."""
        self.instance.add_dynamic_partitions(REQUESTS_PARTITION_NAME, [request_id])
        keys = [AssetKey(f"{canonical_format(f)}_export") for f in formats]
        ops_config = {"custom_json_export": {"config": {"mapping": mapping}}} if mapping else None
        self._execute("export_request", request_id, asset_selection=keys, ops_config=ops_config)

    def _execute_shards(self, keys: list[str]) -> None:
        for i, key in enumerate(keys):
            if self.on_shard:
                self.on_shard(key, i, len(keys))
            self._execute("generate_shard", key)

    # ---- reporting ---------------------------------------------------------------------------------
    def _finish(
        self, request_id: str, spec: JobSpec, wall: float, shards_run: int, formats: list[str]
    ) -> RequestSummary:
        request = self.ledger.get_request(request_id)
        counts = self.ledger.state_counts(request_id)
        accepted_rows = self.ledger.accepted_slots(request_id)
        delivered, surplus = accepted_rows[: spec.count], accepted_rows[spec.count :]
        fulfilled = counts["accepted"] >= spec.count
        in_progress = counts["planned"] + counts["generated"] + counts["passed"]
        if fulfilled:
            status, reason = "fulfilled", None
        else:
            status = "exhausted"
            reason = (
                f"only {counts['accepted']} of {spec.count} transcripts accepted after spending the slot budget "
                f"({self.slot_budget(spec.count)} slots = budget factor {self.budget_factor} x count); see the "
                "failure reasons, lower quality_threshold, or re-run with a larger --budget-factor"
            )
        self.ledger.set_request_status(request_id, status, reason)
        all_rows = self.ledger.slots_in_state(
            request_id, ("accepted", "rejected_quality", "duplicate", "failed")
        )
        output_tokens = sum(
            (r.transcript or {}).get("generation", {}).get("output_tokens", 0) for r in all_rows
        )
        accepted_tokens = sum(
            (r.transcript or {}).get("generation", {}).get("text_tokens", 0) for r in delivered
        )
        reasons: dict[str, int] = {}
        for r in all_rows:
            if r.state in ("rejected_quality", "failed") and r.reason:
                key = f"{r.state}: {_reason_key(r.state, r.reason)}"
                reasons[key] = reasons.get(key, 0) + 1
        summary = RequestSummary(
            request_id=request_id,
            request_text=request.request_text,
            count=spec.count,
            accepted=len(delivered),
            surplus_accepted=[r.slot_id for r in surplus],
            rejected_quality=counts["rejected_quality"],
            duplicate=counts["duplicate"],
            failed=counts["failed"],
            in_progress=in_progress,
            fulfilled=fulfilled,
            status=status,
            reason=reason,
            shards=shards_run,
            dagster_runs=list(self.runs),
            wall_seconds=round(wall, 2),
            output_tokens=output_tokens,
            accepted_output_tokens=accepted_tokens,
            accepted_tokens_per_second=round(accepted_tokens / wall, 2) if wall else 0.0,
            conversations_per_hour=round(len(delivered) * 3600 / wall, 1) if wall and shards_run else 0.0,
            failure_reasons=dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
            failed_checks=list(self.failed_checks),
        )
        if request.out_dir:
            out = Path(request.out_dir)
            transcripts_path = out / "transcripts.jsonl"
            write_jsonl(transcripts_path, [r.transcript for r in delivered if r.transcript is not None])
            summary.paths = {
                "transcripts": str(transcripts_path),
                "summary": str(out / "summary.json"),
                **{f: str(out / "exports" / f) for f in formats},
            }
        return summary
