"""The per-shard assets' shared definition: partitioned by shard, stored as Parquet by the transcript store,
owned by the team; each names its group, kinds and description (and, where it calls LLM nodes, op tags)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dagster import AssetsDefinition, asset

from transcript_assets.partitions import shard_partitions

OWNERS = ["team:transcript-foundry"]


def shard_asset(
    *, group_name: str, kinds: set[str], description: str, **extra: Any
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    return asset(
        partitions_def=shard_partitions,
        group_name=group_name,
        kinds=kinds,
        owners=OWNERS,
        io_manager_key="transcript_store",
        description=description,
        **extra,
    )
