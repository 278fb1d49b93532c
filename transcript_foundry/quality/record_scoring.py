"""Scoring transcripts that come from anywhere (``transcripts score``) with exactly the pipeline's
discriminator: any output-contract record with ``id`` and ``turns`` (each ``speaker`` and ``text``), and
optionally ``domain``, ``company``, ``agent_name``, ``emotional_tone``, ``scenario``; every other field is
kept as it is. The record gets ``quality``: overall, passed, the threshold, the four dimensions, the reasons
(each naming its turn) and the coherence discriminator's signals and version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from transcript_foundry.contract.lenient_transcripts import EXTERNAL, UNKNOWN
from transcript_foundry.contract.transcript import GenerationInfo, Transcript
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.quality.coherence.call_view import CallRecordError, CallView
from transcript_foundry.quality.coherence.score import CoherenceScorer, default_scorer
from transcript_foundry.quality.discriminator import Discriminator

# A file from elsewhere asked for no turn count: any length is in bounds.
ANY_LENGTH = (2, 100_000)
_KNOWN_TONES = frozenset(
    {"neutral", "calm", "satisfied", "frustrated", "angry", "confused", "anxious", "impatient", "sad"}
)


class RecordScoringError(ValueError):
    """A record that cannot be scored; the message starts with the field."""


class RecordScorer:
    def __init__(
        self,
        packs: Mapping[str, DomainPack],
        threshold: float,
        domain: str | None = None,
        coherence: CoherenceScorer | None = None,
    ):
        if domain is not None and domain not in packs:
            raise RecordScoringError(
                f"--domain: no domain pack {domain!r}; known: {', '.join(sorted(packs))} (or leave it out)"
            )
        self.packs = packs
        self.threshold = threshold
        self.domain = domain
        self.coherence = coherence or default_scorer()
        self._discriminators: dict[str | None, Discriminator] = {}

    def _discriminator(self, domain: str | None) -> Discriminator:
        if domain not in self._discriminators:
            pack = self.packs.get(domain) if domain else None
            self._discriminators[domain] = Discriminator(
                pack, ANY_LENGTH, self.threshold, coherence=self.coherence
            )
        return self._discriminators[domain]

    def score(self, record: Any) -> dict[str, Any]:
        """``record`` with its ``quality``; raises RecordScoringError naming the bad field."""
        try:
            view = CallView.from_record(record)
        except CallRecordError as exc:
            raise RecordScoringError(str(exc)) from None
        domain = self.domain or (record.get("domain") if isinstance(record.get("domain"), str) else None)
        pack = self.packs.get(domain) if domain else None
        tone = record.get("emotional_tone")
        scenario = record.get("scenario")
        try:
            transcript = Transcript(
                id=str(record["id"]),
                request_id=str(record.get("request_id") or EXTERNAL),
                domain=domain or UNKNOWN,
                scenario=scenario if isinstance(scenario, str) else UNKNOWN,
                emotional_tone=tone if tone in _KNOWN_TONES else None,
                complexity=None,
                company=view.company,
                agent_name=view.agent_name,
                turns=[{"speaker": s, "text": t} for s, t in view.turns],
                generation=GenerationInfo(node_id=EXTERNAL, model=UNKNOWN, strategy="json_batch"),
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise RecordScoringError(f"{where}: {first['msg']}") from None
        report = self._discriminator(domain if pack is not None else None).score(transcript)
        scores: dict[str, float | None] = dict(report.scores)
        reasons = list(report.reasons)
        if pack is None:
            scores["domain_accuracy"] = None
            reasons.append(
                f"domain accuracy not scored: no domain pack for {domain or 'a record without a domain'}"
            )
        quality = {
            "overall": report.overall,
            "passed": report.passed,
            "threshold": report.threshold,
            "scores": scores,
            "reasons": reasons,
            "issues": [{"kind": i.kind, "turn": i.turn, "hint": i.hint} for i in report.issues],
            "coherence": report.coherence,
        }
        return {**record, "quality": quality}
