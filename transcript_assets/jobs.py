"""Jobs: generate one shard, fold new shards into the library, export a request."""

from dagster import AssetSelection, define_asset_job

generate_shard_job = define_asset_job(
    name="generate_shard",
    selection=AssetSelection.assets("raw_transcripts", "scrubbed_transcripts", "scored_transcripts"),
    description="Generate, scrub and quality-gate one shard of a request.",
)

build_library_job = define_asset_job(
    name="build_library",
    selection=AssetSelection.assets("dedup_index", "transcript_library"),
    description="Add newly passed transcripts to the de-duplicated library.",
)

export_request_job = define_asset_job(
    name="export_request",
    selection=AssetSelection.groups("exports", "reports"),
    description="Write a request's transcripts in its export formats and its dataset report (run with an "
    "asset selection).",
)
