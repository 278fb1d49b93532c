"""The code location: assets, jobs and resources, configured from the environment (embedded defaults)."""

from __future__ import annotations

import os

from dagster import Definitions

from io_managers.transcript_store import TranscriptStore
from resources.ledger import Ledger
from resources.llm_pool import LLMPool
from resources.settings import (
    MODEL_PATH_ENV,
    NODES_FILE_ENV,
    OPENAI_BASE_URL_ENV,
    OPENAI_MODEL_ENV,
    project_paths,
)
from transcript_assets.jobs import build_library_job, export_request_job, generate_shard_job
from transcript_assets.raw_transcripts import raw_transcripts
from transcript_assets.request_exports import export_assets
from transcript_assets.scored_transcripts import scored_transcripts
from transcript_assets.scrubbed_transcripts import scrubbed_transcripts
from transcript_assets.transcript_library import transcript_library


def build_resources() -> dict[str, object]:
    paths = project_paths()
    return {
        "ledger": Ledger(url=paths.state_url),
        "llm_pool": LLMPool(
            nodes_file=os.environ.get(NODES_FILE_ENV) or None,
            model_path=os.environ.get(MODEL_PATH_ENV) or None,
            openai_base_url=os.environ.get(OPENAI_BASE_URL_ENV) or None,
            openai_model=os.environ.get(OPENAI_MODEL_ENV) or None,
            api_key_env="OPENAI_API_KEY" if os.environ.get("OPENAI_API_KEY") else None,
        ),
        "transcript_store": TranscriptStore(base_dir=str(paths.store_dir)),
    }


defs = Definitions(
    assets=[raw_transcripts, scrubbed_transcripts, scored_transcripts, transcript_library, *export_assets],
    jobs=[generate_shard_job, build_library_job, export_request_job],
    resources=build_resources(),
)
