"""Shards: the dynamic partitions of the per-shard assets. One key per shard of N conversations."""

from dagster import DynamicPartitionsDefinition

SHARDS_PARTITION_NAME = "transcript_shards"
shard_partitions = DynamicPartitionsDefinition(name=SHARDS_PARTITION_NAME)


def shard_key(request_id: str, number: int) -> str:
    return f"{request_id}-s{number:04d}"


def shard_number(key: str) -> int:
    """The shard's number within its request (``shard_key``'s inverse)."""
    return int(key.rsplit("-s", 1)[1])


REQUESTS_PARTITION_NAME = "transcript_requests"
request_partitions = DynamicPartitionsDefinition(name=REQUESTS_PARTITION_NAME)
