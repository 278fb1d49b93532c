"""The asset graph materialized with Dagster on the real embedded model."""

import json
from pathlib import Path

import polars as pl
import pytest
from dagster import DagsterInstance, materialize

from transcript_assets.definitions import build_resources, defs, known_node_ids, resources
from transcript_assets.raw_transcripts import raw_transcripts
from transcript_assets.request_exports import export_assets
from transcript_assets.request_runner import RequestRunner
from transcript_assets.scored_transcripts import scored_transcripts
from transcript_assets.scrubbed_transcripts import scrubbed_transcripts
from transcript_assets.transcript_library import transcript_library
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.state.state_db import TERMINAL_STATES


def test_definitions_load() -> None:
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    # one observable fleet/<id> asset per node known at load: the embedded default is one node, "local"
    node_ids = known_node_ids(resources["llm_pool"])  # type: ignore[arg-type]
    assert node_ids == ["local"]
    assert keys == {f"fleet/{node_id}" for node_id in node_ids} | {
        "fleet_summary",
        "dataset_report",
        "raw_transcripts",
        "scrubbed_transcripts",
        "scored_transcripts",
        "transcript_library",
        "dedup_index",
        "custom_json_export",
        "contact_lens_export",
        "ccai_export",
        "rasa_export",
    }
    for job in ("generate_shard", "build_library", "export_request"):
        assert defs.resolve_job_def(job)


@pytest.mark.slow
def test_materialize_a_shard_and_the_library(
    project_home: Path, packs: dict[str, DomainPack], tmp_path: Path
) -> None:
    resources = build_resources()
    ledger = resources["ledger"]
    instance = DagsterInstance.get()
    runner = RequestRunner(defs, instance, ledger, packs, shard_size=3)
    spec = JobSpec(
        count=2, domain="retail", emotional_tone="confused", exchanges=(6, 8), quality_threshold=0.7
    )
    out = tmp_path / "out"
    request_id = runner.submit(spec, "test request", out)
    shard = runner.plan_next_shard(request_id)
    assert shard == f"{request_id}-s0000"
    assert shard in instance.get_dynamic_partitions("transcript_shards")
    size = len(ledger.shard_slots(shard))
    assert size == 2  # count / prior yield 1.0: no surplus slot planned

    result = materialize(
        [raw_transcripts, scrubbed_transcripts, scored_transcripts],
        partition_key=shard,
        resources=resources,
        instance=instance,
    )
    assert result.success
    raw = result.output_for_node("raw_transcripts")
    scored = result.output_for_node("scored_transcripts")
    raw_meta = result.asset_materializations_for_node("raw_transcripts")[0].metadata
    assert raw_meta["slots"].value == size
    assert raw_meta["tokens_per_second"].value > 0
    assert "**" in raw_meta["preview"].value  # markdown preview of one transcript
    scored_meta = result.asset_materializations_for_node("scored_transcripts")[0].metadata
    assert scored_meta["passed"].value == len(scored)
    assert all(Transcript.model_validate(r).quality["passed"] for r in scored)
    assert len(raw) + ledger.state_counts(request_id)["failed"] == size
    store = project_home / "store"
    assert pl.read_parquet(store / "raw_transcripts" / f"{shard}.parquet").height == len(raw)

    # Every slot of the shard is now generated-and-scored: passed, rejected_quality or failed.
    states = {s.state for s in ledger.shard_slots(shard)}
    assert states <= {"passed", "rejected_quality", "failed"}
    assert ledger.performance_samples(result.run_id)[0]["throughput_per_sec"] > 0

    library = materialize([transcript_library], resources=resources, instance=instance)
    assert library.success
    lib = library.output_for_node("transcript_library", "transcript_library")
    assert len(lib) == len(scored)
    counts = ledger.state_counts(request_id)
    assert counts["accepted"] + counts["duplicate"] == len(scored)
    assert sum(counts[s] for s in TERMINAL_STATES) == size

    # Every export asset for the request's partition, each with its blocking file check.
    instance.add_dynamic_partitions("transcript_requests", [request_id])
    exports = materialize(export_assets, partition_key=request_id, resources=resources, instance=instance)
    assert exports.success
    checks = exports.get_asset_check_evaluations()
    # files_valid and no_planted_phi, both blocking, on each export
    assert len(checks) == 8 and {c.check_name for c in checks} == {"files_valid", "no_planted_phi"}
    assert all(c.passed for c in checks if c.check_name == "files_valid"), [c.metadata for c in checks]
    delivered = [x["id"] for x in lib][: spec.count]
    contract = out / "exports" / "custom_json" / f"{request_id}.jsonl"
    assert [json.loads(x)["id"] for x in contract.read_text().splitlines()] == delivered
    assert len(list((out / "exports" / "contact_lens").rglob("*.json"))) == len(delivered)
    assert len(list((out / "exports" / "ccai" / "conversations").glob("*.json"))) == len(delivered)
    assert (out / "exports" / "rasa" / "domain.yml").exists()

    # Materializing the library again adds nothing: it is incremental.
    again = materialize([transcript_library], resources=resources, instance=instance)
    [again_meta] = [
        m.metadata
        for m in again.asset_materializations_for_node("transcript_library")
        if m.asset_key.to_user_string() == "transcript_library"
    ]
    assert again_meta["added"].value == 0 and again_meta["compared"].value == 0


def test_workspace_loads_in_dagster(project_home: Path) -> None:
    """What `dagster dev` loads: workspace.yaml → transcript_assets.definitions."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    dagster = Path(sys.executable).parent / "dagster"
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=root,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All code locations passed validation" in done.stdout + done.stderr


def test_an_invalid_export_file_fails_the_blocking_check(
    project_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: a CCAI writer that emits role BOT; the real validator must fail the asset check."""
    from tests.support.golden_files import sample_records
    from transcript_assets import request_exports
    from transcript_foundry.formats.export_file import ExportFile
    from transcript_foundry.formats.export_formats import ExportFormat, export_format

    real = export_format("ccai")

    def broken_render(records: list[dict]) -> list[ExportFile]:
        files = real.render(records)
        first = files[0]
        return [ExportFile(first.relative_path, first.content.replace('"AGENT"', '"BOT"', 1)), *files[1:]]

    monkeypatch.setattr(
        request_exports,
        "export_format",
        lambda fmt, mapping=None: ExportFormat("ccai", broken_render, real.validate),
    )
    resources = build_resources()
    ledger = resources["ledger"]
    records = sample_records()[:2]
    ledger.create_request("rbad", "t", {"count": 2, "domain": "healthcare"}, 2, 1, str(project_home / "out"))
    ledger.add_shard("rbad-s0000", "rbad", [{"slot_id": r["id"], "index": i} for i, r in enumerate(records)])
    for i, r in enumerate(records):
        ledger.record_passed(r["id"], r, r["quality"], 1)
        ledger.record_accepted(r["id"], f"h{i}", i)
    instance = DagsterInstance.get()
    instance.add_dynamic_partitions("transcript_requests", ["rbad"])
    ccai_asset = next(a for a in export_assets if a.key.to_user_string() == "ccai_export")
    result = materialize(
        [ccai_asset], partition_key="rbad", resources=resources, instance=instance, raise_on_error=False
    )
    [check] = [c for c in result.get_asset_check_evaluations() if c.check_name == "files_valid"]
    assert not check.passed
    assert (
        "conversations/" in check.description
        and "entries[" in check.description
        and "role" in check.description
    )


def test_a_planted_identifier_left_in_a_delivered_transcript_fails_the_export(project_home: Path) -> None:
    """The no_planted_phi check reads each delivered transcript against its plan's facts, written or spoken."""
    from tests.support.golden_files import sample_records

    resources = build_resources()
    ledger = resources["ledger"]
    records = [dict(r) for r in sample_records()[:2]]
    leaked = records[1]["turns"][1]
    records[1]["turns"][1] = {
        **leaked,
        "text": "Sure, my member ID is E V H four eight two one three nine oh seven.",
    }
    ledger.create_request("rleak", "t", {"count": 2, "domain": "healthcare"}, 2, 1, str(project_home / "out"))
    plans = [
        {"slot_id": r["id"], "index": i, "facts": {"member_id": "EVH-48213907", "person_name": "Priya Patel"}}
        for i, r in enumerate(records)
    ]
    ledger.add_shard("rleak-s0000", "rleak", plans)
    for i, r in enumerate(records):
        ledger.record_passed(r["id"], r, r["quality"], 1)
        ledger.record_accepted(r["id"], f"h{i}", i)
    instance = DagsterInstance.get()
    instance.add_dynamic_partitions("transcript_requests", ["rleak"])
    custom = next(a for a in export_assets if a.key.to_user_string() == "custom_json_export")
    result = materialize(
        [custom], partition_key="rleak", resources=resources, instance=instance, raise_on_error=False
    )
    [check] = [c for c in result.get_asset_check_evaluations() if c.check_name == "no_planted_phi"]
    assert not check.passed and check.severity.value == "ERROR"
    assert next(s for s in custom.check_specs if s.name == "no_planted_phi").blocking
    assert check.description == f"planted member_id survives in {records[1]['id']} turn 1 (1 in all)"
