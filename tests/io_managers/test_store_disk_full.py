"""Crash matrix: the transcript store's disk fills up mid-run (a real tmpfs, mounted by the test).

A shard's ``raw_transcripts`` runs as a real Dagster run against two simulated nodes on loopback, with the
Parquet store on a tiny tmpfs that a filler file has almost filled. The run fails with a message that says
the store is full and what to do; no Parquet file, whole or half, is left; the ledger keeps every slot
generated. With space freed, the same shard runs again: it completes, and no conversation is generated
again (the nodes see no new call).
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import yaml
from dagster import DagsterInstance, materialize

from tests.support.simulated_node import NodeBehaviour, SimulatedNode
from transcript_assets.definitions import build_resources, defs
from transcript_assets.raw_transcripts import raw_transcripts
from transcript_assets.request_runner import RequestRunner
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import DomainPack

TMPFS_BYTES = 256 * 1024
LEFT_FREE = 4 * 1024  # less than a shard's Parquet file


@pytest.fixture
def tiny_store(project_home: Path) -> Iterator[Path]:
    store = project_home / "store"
    store.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(store)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield store
    finally:
        subprocess.run(["umount", "-l", str(store)], check=False)


def fill(store: Path) -> Path:
    filler = store / "filler.bin"
    with filler.open("wb") as fh, contextlib.suppress(OSError):  # full already: that is the point
        fh.write(b"\0" * (TMPFS_BYTES - LEFT_FREE))
    return filler


@pytest.mark.slow
def test_a_full_store_fails_clearly_leaves_no_half_file_and_resumes(
    project_home: Path, tiny_store: Path, packs: dict[str, DomainPack], monkeypatch: pytest.MonkeyPatch
) -> None:
    servers = [SimulatedNode(NodeBehaviour(slots=2, reply="chatter"), seed=i) for i in range(2)]
    try:
        nodes_file = project_home / "nodes.yaml"
        entries = [
            {
                "id": f"n{i}",
                "backend": "openai_compatible",
                "url": s.url,
                "model": "sim",
                "prompt_style": "completion",
            }
            for i, s in enumerate(servers)
        ]
        nodes_file.write_text(yaml.safe_dump({"nodes": entries}), encoding="utf-8")
        monkeypatch.setenv("TRANSCRIPTS_NODES_FILE", str(nodes_file))
        resources = build_resources()
        ledger = resources["ledger"]
        instance = DagsterInstance.get()
        runner = RequestRunner(defs, instance, ledger, packs, shard_size=6)
        request_id = runner.submit(JobSpec(count=6, domain="retail", exchanges=(4, 6)), "disk full", None)
        shard = runner.plan_next_shard(request_id)
        assert shard is not None
        filler = fill(tiny_store)

        first = materialize(
            [raw_transcripts],
            partition_key=shard,
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
        assert not first.success
        [failure] = [e for e in first.all_events if e.is_step_failure]
        message = failure.event_specific_data.error.to_string()
        assert (
            "the transcript store is full" in message
            and "free space there and run the request again" in message
        )
        left = [p.name for p in tiny_store.rglob("*") if p.is_file() and p != filler]
        assert left == [], f"half-written files left in the store: {left}"
        slots = ledger.shard_slots(shard)
        assert [s.state for s in slots] == ["generated"] * 6, "the ledger keeps what was generated"
        calls = [len(s.completed) for s in servers]

        filler.unlink()
        again = materialize([raw_transcripts], partition_key=shard, resources=resources, instance=instance)
        assert again.success
        assert [len(s.completed) for s in servers] == calls, "nothing generated again"
        meta = again.asset_materializations_for_node("raw_transcripts")[0].metadata
        assert meta["reused_from_earlier_run"].value == 6 and meta["generated"].value == 0
        frame = pl.read_parquet(tiny_store / "raw_transcripts" / f"{shard}.parquet")
        assert frame.height == 6 and set(frame["id"]) == {s.transcript["id"] for s in slots}
        assert [s.state for s in ledger.shard_slots(shard)] == ["generated"] * 6
    finally:
        for server in servers:
            server.close()
