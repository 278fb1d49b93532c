"""Jobs: generate one shard, and fold new shards into the library and its exports."""

from dagster import AssetSelection, define_asset_job

generate_shard_job = define_asset_job(
    name="generate_shard",
    selection=AssetSelection.assets("raw_transcripts", "scored_transcripts"),
    description="Generate and quality-gate one shard of a request.",
)

build_library_job = define_asset_job(
    name="build_library",
    selection=AssetSelection.assets("transcript_library", "custom_json_export"),
    description="Add newly passed transcripts to the de-duplicated library and write the exports.",
)
