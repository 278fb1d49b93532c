"""The LLM judge: a node of the pool rates a transcript on the four dimensions, with a short critique.

Two ways to ask, by the node's prompt style:

- ``chat_json`` (capable chat models): one chat call; the answer must match ``JudgeAnswer``'s JSON schema
  (ratings 1-5 per dimension, a critique of at most 240 characters, up to 8 weak turn numbers). It is
  validated with pydantic; anything else is an ``unparseable`` outcome.
- ``completion`` (base models such as the embedded Gemma 3 270M): a few-shot review form. Two reviewed
  calls (a clean exemplar and a degraded copy of another, each rated by the model-free scorer) precede the
  call to judge; the model then fills in one dimension at a time with a single digit (max two tokens,
  greedy, stop at the newline), its answer appended before the next question, so the llama.cpp KV cache
  reuses everything before it. A missing or out-of-range digit is an ``unparseable`` outcome. Base models
  write no critique; the loop uses the model-free issues instead.

Ratings map onto [0, 1] as (rating - 1) / 4. A failed call is a ``call_failed`` outcome. Neither ever
raises: the discriminator falls back to the model-free scores for that transcript and says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.llm.backend import LLMBackend, LLMCallError, SamplingParams
from transcript_foundry.quality.degradations import degrade, exemplar_transcript
from transcript_foundry.quality.gate import DIMENSIONS, assess

JudgeOutcome = Literal["ok", "unparseable", "call_failed"]
CRITIQUE_MAX_CHARS = 240
QUESTIONS: dict[str, str] = {
    "naturalness": "Naturalness (sounds like two real people, no repeated lines)",
    "coherence": "Coherence (greeting, the problem handled in order, a goodbye)",
    "domain_accuracy": "Domain accuracy (about {domain}, using its terms)",
    "emotional_consistency": "Emotional consistency (the caller sounds {tone})",
}
RUBRIC = (
    "Rate each dimension from 1 (bad) to 5 (excellent):\n"
    "- naturalness: spoken, varied, believable wording; no repeated or looping lines; sensible turn lengths.\n"
    "- coherence: the agent greets, the problem is handled step by step, each turn answers the last, and "
    "the call ends with a goodbye.\n"
    "- domain_accuracy: the call is about {domain} and uses its terms correctly.\n"
    "- emotional_consistency: the caller sounds {tone} throughout, as requested.\n"
    "critique: at most two sentences saying what to fix. weak_turns: the numbers of the turns to rewrite."
)
SYSTEM_PROMPT = (
    "You are a strict reviewer of synthetic customer-service call transcripts used to train contact-center "
    "AI. Answer only with JSON matching the schema."
)
_DIGIT = re.compile(r"\s*([1-5])\b")


class JudgeAnswer(BaseModel):
    """What a chat judge must answer (also its JSON schema)."""

    model_config = ConfigDict(extra="forbid")

    naturalness: int = Field(ge=1, le=5)
    coherence: int = Field(ge=1, le=5)
    domain_accuracy: int = Field(ge=1, le=5)
    emotional_consistency: int = Field(ge=1, le=5)
    critique: str = Field(min_length=1, max_length=CRITIQUE_MAX_CHARS)
    weak_turns: list[int] = Field(default_factory=list, max_length=8)


@dataclass
class JudgeVerdict:
    outcome: JudgeOutcome
    node_id: str
    model: str
    mode: str  # chat_json | completion
    scores: dict[str, float] | None = None
    ratings: dict[str, int] | None = None
    critique: str = ""
    weak_turns: list[int] = field(default_factory=list)  # 0-based
    detail: str = ""  # why an answer was unparseable or a call failed
    output_tokens: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def rating_to_score(rating: int) -> float:
    return (rating - 1) / 4


def score_to_rating(score: float) -> int:
    return max(1, min(5, round(1 + 4 * score)))


def numbered_turns(t: Transcript) -> str:
    return "\n".join(
        f"{i + 1}. {'Agent' if x.speaker == 'AGENT' else 'Customer'}: {x.text}" for i, x in enumerate(t.turns)
    )


def judge_schema() -> dict[str, object]:
    schema = JudgeAnswer.model_json_schema()
    schema["required"] = list(JudgeAnswer.model_fields)
    return schema


class LLMJudge:
    """Asks one backend for per-dimension ratings. ``judge()`` never raises for a bad answer or call."""

    def __init__(self, backend: LLMBackend, packs: dict[str, DomainPack], *, max_tokens: int = 220):
        self.backend = backend
        self.packs = packs
        self.max_tokens = max_tokens
        self._prefixes: dict[str, str] = {}

    @property
    def mode(self) -> str:
        return self.backend.info.prompt_style

    def judge(self, t: Transcript, pack: DomainPack) -> JudgeVerdict:
        try:
            if self.mode == "chat_json":
                return self._chat(t, pack)
            return self._completion(t, pack)
        except LLMCallError as exc:
            return self._verdict("call_failed", detail=str(exc)[:300])

    def _verdict(self, outcome: JudgeOutcome, **values: object) -> JudgeVerdict:
        info = self.backend.info
        return JudgeVerdict(outcome=outcome, node_id=info.node_id, model=info.model, mode=self.mode, **values)  # type: ignore[arg-type]

    # ---- chat models ---------------------------------------------------------------------------------
    def chat_messages(self, t: Transcript, pack: DomainPack) -> list[dict[str, str]]:
        tone = t.emotional_tone or "neutral"
        try:
            reason = pack.scenario(t.scenario).title
        except KeyError:
            reason = t.scenario
        user = (
            f"Domain: {pack.description}. Reason for the call: {reason}. Requested caller mood: {tone}.\n\n"
            f"Transcript:\n{numbered_turns(t)}\n\n{RUBRIC.format(domain=pack.name, tone=tone)}"
        )
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]

    def _chat(self, t: Transcript, pack: DomainPack) -> JudgeVerdict:
        completion = self.backend.chat_json(
            self.chat_messages(t, pack),
            judge_schema(),
            SamplingParams(max_tokens=self.max_tokens, temperature=0.0, repeat_penalty=1.0, seed=0),
        )
        try:
            answer = JudgeAnswer.model_validate(json.loads(completion.text))
        except (ValueError, ValidationError) as exc:
            cut = " (cut off at the token limit)" if completion.finish_reason == "length" else ""
            first = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            return self._verdict(
                "unparseable",
                detail=f"not a JudgeAnswer{cut}: {first}; answer began {completion.text[:80]!r}",
                output_tokens=completion.completion_tokens,
            )
        ratings = {d: getattr(answer, d) for d in DIMENSIONS}
        return self._verdict(
            "ok",
            scores={d: rating_to_score(r) for d, r in ratings.items()},
            ratings=ratings,
            critique=answer.critique.strip(),
            weak_turns=sorted({n - 1 for n in answer.weak_turns if 1 <= n <= len(t.turns)}),
            output_tokens=completion.completion_tokens,
        )

    # ---- base models ---------------------------------------------------------------------------------
    def _call_block(self, t: Transcript, pack: DomainPack) -> str:
        lines = "\n".join(f"{'Agent' if x.speaker == 'AGENT' else 'Customer'}: {x.text}" for x in t.turns)
        return f"### Call\nDomain: {pack.name}. Caller mood asked for: {t.emotional_tone or 'neutral'}.\n{lines}\n"

    def _question(self, dimension: str, t: Transcript, pack: DomainPack) -> str:
        return QUESTIONS[dimension].format(domain=pack.name, tone=t.emotional_tone or "neutral") + ":"

    def _reviewed(self, t: Transcript, pack: DomainPack) -> str:
        """One few-shot example: the call and its ratings from the model-free scorer (the calibration)."""
        report = assess(t, pack, (2, 400), 0.0)
        answers = "".join(
            f"{self._question(d, t, pack)} {score_to_rating(report.scores[d])}\n" for d in DIMENSIONS
        )
        return self._call_block(t, pack) + answers + "\n"

    def few_shot_prefix(self, pack: DomainPack) -> str:
        """Two reviewed calls from a pack other than the judged one (so no judged call is an example)."""
        example_pack = next((p for name, p in sorted(self.packs.items()) if name != pack.name), pack)
        if example_pack.name not in self._prefixes:
            # The two shortest exemplars keep the prompt (evaluated once, then cached) small.
            by_length = sorted(
                range(len(example_pack.exemplars)),
                key=lambda i: sum(len(t.text) for t in example_pack.exemplars[i].turns),
            )
            clean = exemplar_transcript(example_pack, by_length[0])
            second = exemplar_transcript(example_pack, by_length[1 % len(by_length)])
            bad = degrade(
                "looped",
                degrade("truncated", second, example_pack, self.packs).transcript,
                example_pack,
                self.packs,
            )
            off = degrade("off_domain", bad.transcript, example_pack, self.packs)
            self._prefixes[example_pack.name] = (
                "Reviews of customer-service call transcripts. Each dimension is rated from 1 (bad) to 5 "
                "(excellent).\n\n"
                + self._reviewed(clean, example_pack)
                + self._reviewed(off.transcript, off.pack)
            )
        return self._prefixes[example_pack.name]

    def _completion(self, t: Transcript, pack: DomainPack) -> JudgeVerdict:
        prompt = self.few_shot_prefix(pack) + self._call_block(t, pack)
        ratings: dict[str, int] = {}
        tokens = 0
        for dimension in DIMENSIONS:
            prompt += self._question(dimension, t, pack)
            completion = self.backend.complete(
                prompt,
                SamplingParams(
                    max_tokens=2, temperature=0.0, top_p=1.0, repeat_penalty=1.0, stop=("\n",), seed=0
                ),
            )
            tokens += completion.completion_tokens
            match = _DIGIT.match(completion.text)
            if not match:
                return self._verdict(
                    "unparseable",
                    detail=f"{dimension}: expected a digit 1-5, got {completion.text[:20]!r}",
                    ratings=ratings or None,
                    output_tokens=tokens,
                )
            ratings[dimension] = int(match.group(1))
            prompt += f" {ratings[dimension]}\n"
        return self._verdict(
            "ok",
            scores={d: rating_to_score(r) for d, r in ratings.items()},
            ratings=ratings,
            output_tokens=tokens,
        )
