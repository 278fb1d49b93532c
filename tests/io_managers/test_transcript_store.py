from pathlib import Path

from dagster import (
    AssetExecutionContext,
    DagsterInstance,
    Definitions,
    DynamicPartitionsDefinition,
    asset,
    materialize,
)

from io_managers.transcript_store import TranscriptStore, frame_to_records, records_to_frame

RECORD = {
    "id": "r-000001",
    "request_id": "r",
    "domain": "retail",
    "scenario": "return_refund",
    "emotional_tone": None,
    "complexity": "simple",
    "caller_type": "first_time",
    "company": "Northwind Outfitters",
    "agent_name": "Sam",
    "turns": [
        {"speaker": "AGENT", "text": "Northwind, this is Sam.", "beat": "greets", "act": "greet"},
        {"speaker": "CUSTOMER", "text": "I want to return boots.", "beat": None, "act": None},
    ],
    "quality": {"overall": 0.9, "checks": {"length": 1.0}},
    "generation": {"node_id": "local", "model": "m", "strategy": "turn_by_turn", "output_tokens": 12},
}


def test_records_roundtrip_through_a_frame() -> None:
    assert frame_to_records(records_to_frame([RECORD])) == [RECORD]
    assert frame_to_records(records_to_frame([])) == []


def test_partitioned_asset_is_stored_as_parquet_per_partition(tmp_path: Path) -> None:
    parts = DynamicPartitionsDefinition(name="store_test")

    @asset(partitions_def=parts, io_manager_key="store")
    def shard_records(context: AssetExecutionContext) -> list[dict]:
        return [{**RECORD, "id": f"{context.partition_key}-1"}]

    @asset(partitions_def=parts, io_manager_key="store")
    def downstream(shard_records: list[dict]) -> list[dict]:
        return shard_records

    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("store_test", ["a", "b"])
    store = TranscriptStore(base_dir=str(tmp_path / "store"))
    for key in ("a", "b"):
        result = materialize(
            [shard_records, downstream], partition_key=key, resources={"store": store}, instance=instance
        )
        assert result.success
        assert result.output_for_node("downstream")[0]["id"] == f"{key}-1"
    assert sorted(p.name for p in (tmp_path / "store" / "shard_records").iterdir()) == [
        "a.parquet",
        "b.parquet",
    ]
    assert Definitions(assets=[shard_records, downstream], resources={"store": store})
