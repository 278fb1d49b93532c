"""The dynamic partitions: one key per shard of N conversations (per-shard assets), one per request
(export assets). Keys and names come from the request lifecycle (transcript_foundry/request/lifecycle.py)."""

from dagster import DynamicPartitionsDefinition

from transcript_foundry.request.lifecycle import REQUESTS_PARTITION_NAME, SHARDS_PARTITION_NAME

shard_partitions = DynamicPartitionsDefinition(name=SHARDS_PARTITION_NAME)
request_partitions = DynamicPartitionsDefinition(name=REQUESTS_PARTITION_NAME)
