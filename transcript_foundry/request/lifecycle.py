"""A request's life in the ledger, the same for ``transcripts generate`` and the sensors: submit it, plan its
shards from the yield seen so far, and record its outcome (status, transcripts.jsonl, summary.json).

Running the shards is the Dagster layer's part (``transcript_assets/request_runner.py`` in-process, the
sensors through the daemon).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.contract.jsonl_file import write_jsonl
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.formats.export_formats import canonical_format
from transcript_foundry.generation.conversation_plan import plan_conversation
from transcript_foundry.quality.feedback_loop import reason_key
from transcript_foundry.report.request_report import written_headline
from transcript_foundry.request.progress import next_shard_size, slot_budget
from transcript_foundry.settings.store import SettingsStore
from transcript_foundry.state.ledger import RequestLedger

DEFAULT_SHARD_SIZE = 10
DEFAULT_BUDGET_FACTOR = 3.0
SHARDS_PARTITION_NAME = "transcript_shards"
"""The dynamic partitions of the per-shard assets (one key per shard of N conversations)."""
REQUESTS_PARTITION_NAME = "transcript_requests"
"""The dynamic partitions of the per-request export assets (one key per request)."""


def shard_key(request_id: str, number: int) -> str:
    return f"{request_id}-s{number:04d}"


def shard_number(key: str) -> int:
    """The shard's number within its request (``shard_key``'s inverse)."""
    return int(key.rsplit("-s", 1)[1])


def _reason_key(state: str, reason: str) -> str:
    """The specific cause of a slot's reason, so that equal causes count together in the summary."""
    if state == "failed":  # "attempt 3 on local: turn 5 (CUSTOMER) degenerate after 3 tries: ..."
        return re.sub(r"^attempt \d+ on [^:]+: ", "", reason)[:110]
    parts = [p.strip() for p in reason.split(";") if p.strip() and not p.strip().startswith("overall ")]
    return reason_key(parts[0])[:110] if parts else re.sub(r"\d+(?:\.\d+)?", "N", reason)[:110]


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
    failed_checks: list[str] = field(default_factory=list)  # blocking asset checks that failed a run
    paths: dict[str, str] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)  # the dataset report's headline (report/)

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
    ledger: RequestLedger, spec: JobSpec, request_text: str, out_dir: Path | None, *, status: str = "open"
) -> tuple[str, bool]:
    """Record the request in the ledger (``status`` when it is new); (request id, whether it was new).

    A spec that names no ``quality_threshold`` gets the ``quality.minimum_score`` setting of this moment
    (the id is the spec's as given, so the same request resumes whatever the setting became)."""
    request_id = request_id_for(spec, out_dir)
    if "quality_threshold" not in spec.model_fields_set:
        minimum = SettingsStore(ledger.engine).load().settings.quality.minimum_score
        spec = spec.model_copy(update={"quality_threshold": minimum})
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
    ledger: RequestLedger,
    packs: dict[str, DomainPack],
    request_id: str,
    shard_size: int,
    budget_factor: float,
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


def summarize_request(
    ledger: RequestLedger,
    request_id: str,
    *,
    budget_factor: float,
    wall: float = 0.0,
    shards_run: int | None = None,
    formats: list[str] | None = None,
    runs: list[str] | None = None,
    failed_checks: list[str] | None = None,
) -> RequestSummary:
    """Record the request's outcome (fulfilled / exhausted) in the ledger and write its transcripts.jsonl
    (exactly ``count`` lines when fulfilled); the summary says what every slot ended as. ``wall`` 0 (a
    request the sensors drove: its runs were not timed here) leaves the rates at 0."""
    request = ledger.get_request(request_id)
    spec = JobSpec.model_validate(request.spec)
    formats = formats if formats is not None else [canonical_format(f) for f in spec.formats]
    shards_run = shards_run if shards_run is not None else len(ledger.shard_keys(request_id))
    counts = ledger.state_counts(request_id)
    accepted_rows = ledger.accepted_slots(request_id)
    delivered, surplus = accepted_rows[: spec.count], accepted_rows[spec.count :]
    fulfilled = counts["accepted"] >= spec.count
    in_progress = counts["planned"] + counts["generated"] + counts["passed"]
    if fulfilled:
        status, reason = "fulfilled", None
    else:
        status = "exhausted"
        reason = (
            f"only {counts['accepted']} of {spec.count} transcripts accepted after spending the slot budget "
            f"({slot_budget(spec.count, budget_factor)} slots = budget factor {budget_factor} x count); see the "
            "failure reasons, lower quality_threshold, or re-run with a larger --budget-factor"
        )
    ledger.set_request_status(request_id, status, reason)
    all_rows = ledger.slots_in_state(request_id, ("accepted", "rejected_quality", "duplicate", "failed"))
    output_tokens = sum((r.transcript or {}).get("generation", {}).get("output_tokens", 0) for r in all_rows)
    accepted_tokens = sum((r.transcript or {}).get("generation", {}).get("text_tokens", 0) for r in delivered)
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
        dagster_runs=list(runs or []),
        wall_seconds=round(wall, 2),
        output_tokens=output_tokens,
        accepted_output_tokens=accepted_tokens,
        accepted_tokens_per_second=round(accepted_tokens / wall, 2) if wall else 0.0,
        conversations_per_hour=round(len(delivered) * 3600 / wall, 1) if wall and shards_run else 0.0,
        failure_reasons=dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        failed_checks=list(failed_checks or []),
    )
    written = written_headline(request)
    if written is not None:
        summary.report = written[0]
        summary.paths["report"] = str(written[1])
    if request.out_dir:
        out = Path(request.out_dir)
        transcripts_path = out / "transcripts.jsonl"
        write_jsonl(transcripts_path, [r.transcript for r in delivered if r.transcript is not None])
        summary.paths = {
            **summary.paths,
            "transcripts": str(transcripts_path),
            "summary": str(out / "summary.json"),
            **{f: str(out / "exports" / f) for f in formats},
        }
    return summary


def write_summary(summary: RequestSummary) -> None:
    """summary.json beside the request's transcripts (when the request has an output folder)."""
    if "summary" in summary.paths:
        Path(summary.paths["summary"]).write_text(
            json.dumps(summary.as_dict(), indent=2) + "\n", encoding="utf-8"
        )
