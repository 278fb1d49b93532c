"""Coherence discriminator: does a call hang together? (issue 14, part 1)

Plain Python, no Dagster. The public API::

    from transcript_foundry.quality.coherence import CallView, score_call

    result = score_call(CallView.from_record(record))
    result.overall          # 0..1, P(coherent) from the learned discriminator (weights coherence-v1)
    result.passed(0.5)      # overall >= threshold and no role/entity rule violated
    result.reasons          # ["turn 5 (AGENT): thanks the caller by the agent's own name 'Maria'", ...]
    result.contributions    # each signal's share of the logit; result.groups sums them per group

Modules: call_view (input), role_rules / entity_rules (hard rules), turn_coherence (embedding signals),
features (the named feature vector), classifier (weights, fitting), corruptions (negatives), score (API),
reference_calls (packaged reference data).
"""

from transcript_foundry.quality.coherence.call_view import CallRecordError, CallView
from transcript_foundry.quality.coherence.classifier import VERSION, WeightsError
from transcript_foundry.quality.coherence.score import (
    CoherenceResult,
    CoherenceScorer,
    score_call,
    score_record,
)

__all__ = [
    "VERSION",
    "CallRecordError",
    "CallView",
    "CoherenceResult",
    "CoherenceScorer",
    "WeightsError",
    "score_call",
    "score_record",
]
