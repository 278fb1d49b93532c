"""Schedules: times from the settings, each evaluated with build_schedule_context and its job run for real."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from dagster import DagsterInstance, RunRequest, build_schedule_context
from sqlalchemy import update

from resources.ledger import Ledger
from transcript_assets.cli.main import main
from transcript_assets.maintenance_jobs import (
    library_compaction,
    report_refresh,
    retention_cleanup,
    top_up_standing_requests,
)
from transcript_assets.schedules import build_schedules
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.dedup.dedup_index import IndexRows
from transcript_foundry.dedup.index_store import _write_segment
from transcript_foundry.request.lifecycle import (
    REQUESTS_PARTITION_NAME,
    SHARDS_PARTITION_NAME,
    plan_shard,
    submit_request,
)
from transcript_foundry.request.standing import TOP_UP_SOURCE
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.store import SettingsStore
from transcript_foundry.state.request_queue import RequestQueue
from transcript_foundry.state.state_db import requests

NAMES = ["standing_requests_top_up", "library_compaction", "report_refresh", "retention_cleanup"]


def config_set(key: str, value: str) -> None:
    result = CliRunner().invoke(main, ["config", "set", key, value])
    assert result.exit_code == 0, result.output


@pytest.fixture
def ledger(project_home: Path) -> Ledger:
    return Ledger(url=project_paths().state_url)


def schedules(ledger: Ledger) -> dict[str, object]:
    return {s.name: s for s in build_schedules(SettingsStore(ledger.engine).load().settings.schedules)}


def test_cron_times_and_zone_come_from_the_settings(ledger: Ledger) -> None:
    defaults = schedules(ledger)
    assert list(defaults) == NAMES
    assert defaults["standing_requests_top_up"].cron_schedule == "0 1 * * *"  # type: ignore[attr-defined]
    config_set("schedules.top_up_cron", "15 2 * * 1-5")
    config_set("schedules.retention_cron", "0 4 * * sun")
    config_set("schedules.timezone", "Europe/Berlin")
    changed = schedules(ledger)
    assert changed["standing_requests_top_up"].cron_schedule == "15 2 * * 1-5"  # type: ignore[attr-defined]
    assert changed["retention_cleanup"].cron_schedule == "0 4 * * sun"  # type: ignore[attr-defined]
    assert {s.execution_timezone for s in changed.values()} == {"Europe/Berlin"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("schedules.top_up_cron", "at one", "expected 5 fields"),
        ("schedules.timezone", "Mars/Olympus", "unknown time zone"),
        ("schedules.standing_requests", "healthcare=2000", "expected DOMAIN:COUNT"),
        ("schedules.retention_days", "0", "schedules.retention_days"),
    ],
)
def test_bad_schedule_settings_are_refused_with_the_key_and_the_fix(
    project_home: Path, key: str, value: str, message: str
) -> None:
    result = CliRunner().invoke(main, ["config", "set", key, value])
    assert result.exit_code != 0
    assert key in result.output and message in result.output


def test_top_up_submits_the_shortfall_once_per_tick(ledger: Ledger) -> None:
    config_set("schedules.standing_requests", "healthcare:12, retail:3")
    instance = DagsterInstance.get()
    existing, _ = submit_request(
        ledger, JobSpec(count=5, domain="healthcare"), "five", None, status="submitted"
    )
    tick = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    context = build_schedule_context(instance=instance, scheduled_execution_time=tick)
    request = schedules(ledger)["standing_requests_top_up"].evaluate_tick(context).run_requests[0]  # type: ignore[attr-defined]
    assert isinstance(request, RunRequest) and request.run_key == "top-up:2026-12-04T01:00+00:00"

    for _ in range(2):  # a retried run of the same tick submits nothing new
        result = top_up_standing_requests.execute_in_process(
            run_config=request.run_config, instance=instance, resources={"ledger": ledger}
        )
        assert result.success
    queued = RequestQueue(ledger.engine).in_status("submitted")
    top_ups = {q.request_id: ledger.get_request(q.request_id) for q in queued if q.source == TOP_UP_SOURCE}
    assert sorted((r.spec["domain"], r.count) for r in top_ups.values()) == [("healthcare", 7), ("retail", 3)]
    assert existing not in top_ups  # the pending 5 count towards the 12

    next_tick = top_up_standing_requests.execute_in_process(
        run_config={"ops": {"submit_standing_top_ups": {"config": {"tick": "2026-12-05T01:00"}}}},
        instance=instance,
        resources={"ledger": ledger},
    )
    assert next_tick.output_for_node("submit_standing_top_ups") == 0  # all on its way already


def _segment(folder: Path, start: int, n: int) -> None:
    rows = IndexRows(
        ids=[f"t{start + i}" for i in range(n)],
        hashes=[f"h{start + i}" for i in range(n)],
        skeletons=["agent:greet|caller:ask"] * n,
        text_signatures=np.full((n, 4), start, dtype=np.uint32),
        embeddings=np.eye(n, 3, dtype=np.float32),
    )
    segment = folder / f"seg-{start:010d}"
    segment.mkdir(parents=True)
    _write_segment(segment, rows)


def test_library_compaction_merges_the_index_segments(ledger: Ledger) -> None:
    folder = project_paths().store_dir / "dedup_index"
    for start, n in ((0, 2), (2, 1), (3, 3)):
        _segment(folder, start, n)
    schedule = schedules(ledger)["library_compaction"]
    context = build_schedule_context(instance=DagsterInstance.get())
    assert schedule.evaluate_tick(context).run_requests  # type: ignore[attr-defined]

    result = library_compaction.execute_in_process(instance=DagsterInstance.get())
    assert result.success and result.output_for_node("compact_dedup_index") == 6
    (segment,) = sorted(folder.glob("seg-*"))
    assert pl.read_parquet(segment / "entries.parquet")["id"].to_list() == [f"t{i}" for i in range(6)]
    signatures = np.load(segment / "text_minhash.npy")
    assert signatures.shape == (6, 4) and signatures[:, 0].tolist() == [0, 0, 2, 3, 3, 3]
    assert not (segment / "content_minhash.npy").exists()  # absent in the parts: absent in the whole


def _finished_request(ledger: Ledger, packs: dict, out_dir: Path | None, age_days: float) -> tuple[str, str]:  # type: ignore[type-arg]
    request_id, _ = submit_request(
        ledger, JobSpec(count=2, domain="healthcare", seed=int(age_days)), "two", out_dir
    )
    key = plan_shard(ledger, packs, request_id, shard_size=2, budget_factor=3.0)
    assert key is not None
    for slot in ledger.shard_slots(key):
        ledger.record_passed(slot.slot_id, {"id": slot.slot_id, "turns": []}, {"overall": 0.9}, 1)
        ledger.record_accepted(slot.slot_id, f"hash-{slot.slot_id}", ledger.next_library_seq())
    ledger.set_request_status(request_id, "fulfilled")
    created = datetime.now(UTC) - timedelta(days=age_days)
    with ledger.engine.begin() as conn:
        conn.execute(update(requests).where(requests.c.request_id == request_id).values(created_at=created))
    return request_id, key


def test_retention_removes_old_shards_partitions_and_runs_only(ledger: Ledger, packs: dict) -> None:  # type: ignore[type-arg]
    instance = DagsterInstance.get()
    store = project_paths().store_dir
    old_id, old_key = _finished_request(ledger, packs, None, age_days=40)
    new_id, new_key = _finished_request(ledger, packs, None, age_days=1)
    for key in (old_key, new_key):
        instance.add_dynamic_partitions(SHARDS_PARTITION_NAME, [key])
        for asset in ("raw_transcripts", "scored_transcripts"):
            (store / asset).mkdir(parents=True, exist_ok=True)
            (store / asset / f"{key}.parquet").write_bytes(b"PAR1")
    instance.add_dynamic_partitions(REQUESTS_PARTITION_NAME, [old_id, new_id])
    finished_run = report_refresh.execute_in_process(instance=instance, resources={"ledger": ledger}).run_id

    context = build_schedule_context(instance=instance)
    assert schedules(ledger)["retention_cleanup"].evaluate_tick(context).run_requests  # type: ignore[attr-defined]
    result = retention_cleanup.execute_in_process(instance=instance, resources={"ledger": ledger})
    assert result.success
    assert not list(store.glob(f"*/{old_key}.parquet")) and len(list(store.glob(f"*/{new_key}.parquet"))) == 2
    assert instance.get_dynamic_partitions(SHARDS_PARTITION_NAME) == [new_key]
    assert instance.get_dynamic_partitions(REQUESTS_PARTITION_NAME) == [new_id]
    assert instance.get_run_by_id(finished_run) is not None  # younger than 30 days: kept
    assert len(ledger.accepted_slots(old_id)) == 2  # the ledger keeps the outcome

    config_set("schedules.retention_days", "0.00001")  # 0.864 s: the finished run is old once that has passed
    record = instance.get_run_record_by_id(finished_run)
    assert record is not None and record.update_timestamp is not None
    time.sleep(max(0.0, record.update_timestamp.timestamp() + 1.5 - time.time()))
    retention_cleanup.execute_in_process(instance=instance, resources={"ledger": ledger})
    assert instance.get_run_by_id(finished_run) is None
    assert instance.get_dynamic_partitions(SHARDS_PARTITION_NAME) == []


def test_report_refresh_rewrites_the_summary_of_finished_requests(
    ledger: Ledger, packs: dict, tmp_path: Path
) -> None:  # type: ignore[type-arg]
    out = tmp_path / "out"
    out.mkdir()
    request_id, _ = _finished_request(ledger, packs, out, age_days=0)
    result = report_refresh.execute_in_process(instance=DagsterInstance.get(), resources={"ledger": ledger})
    assert result.output_for_node("refresh_request_reports") == 1
    summary = (out / "summary.json").read_text()
    assert request_id in summary and len((out / "transcripts.jsonl").read_text().splitlines()) == 2
    # the dataset report is rewritten too, and its headline is in the summary
    report = json.loads((out / "report" / "report.json").read_text())
    assert report["headline"]["transcripts"] == 2 and json.loads(summary)["report"] == report["headline"]
