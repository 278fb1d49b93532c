"""Amazon Connect Contact Lens voice analysis files (``"Version": "1.1.0"``), one per conversation.

The same file is the input of the Amazon Lex V2 automated chatbot designer (it reads ``Participants``,
``Version``, ``ContentMetadata``, ``CustomerMetadata.ContactId`` and ``Transcript`` and ignores the rest).
Timing comes from ``timing_model`` (speaking rates, pauses, interruptions), sentiment from
``turn_sentiment``; every value is a pure function of the record and the options. A record with ``phi``
spans is written as the redacted variant (``[PII]`` in place of each span) unless ``redacted`` says
otherwise. Validation lives in ``contact_lens_checks``. See docs/formats/contact-lens.md for the
field-by-field description.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from transcript_foundry.formats.export_file import ExportFile
from transcript_foundry.formats.timing_model import (
    TimingParams,
    TurnTiming,
    deterministic_unit,
    overlaps,
    silences,
    talk_union_ms,
    turn_timings,
    word_count,
)
from transcript_foundry.formats.turn_sentiment import (
    TurnSentiment,
    effective_acts,
    quarters,
    turn_sentiments,
    weighted_score,
)
from transcript_foundry.formats.utc_time import UtcDateTime

SCHEMA_PATH = Path(__file__).parent / "schemas" / "contact_lens_1_1_0.schema.json"
VERSION = "1.1.0"
ROLES: tuple[str, ...] = ("AGENT", "CUSTOMER")
# The Lex V2 chatbot designer's validator wants these top-level keys first, in this order.
LEADING_KEYS: tuple[str, ...] = (
    "Participants",
    "Version",
    "ContentMetadata",
    "CustomerMetadata",
    "Transcript",
)
PII_MASK = "[PII]"
NON_TALK_THRESHOLD_MS = 3000  # Contact Lens: silences where nobody talks for longer than three seconds
CALL_WINDOW_S = 8 * 3600  # conversations start within eight hours of base_time
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://transcript-foundry.local/formats/contact-lens")
LOUDNESS_BASE = {"AGENT": 58.0, "CUSTOMER": 62.0}
LOUDNESS_BY_SENTIMENT = {"NEGATIVE": 9.0, "MIXED": 4.0, "POSITIVE": 2.0, "NEUTRAL": 0.0}
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_ABBREVIATION = re.compile(r"(?:^|\s)(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|No|vs|etc|e\.g|i\.e)$", re.IGNORECASE)
_PLEASANTRY = re.compile(
    r"^(?:thanks?\b|thank you|(?:i'm |i am |so )?sorry|i understand|i apologi[sz]e)", re.IGNORECASE
)


class ContactLensOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: str = Field(default="111122223333", description="AWS account id (12 digits).")
    instance_id: str = Field(
        default="5d6f1b0e-3c2a-4e8b-9f71-2a4c6e8b0d13", description="Amazon Connect instance id (UUID)."
    )
    language_code: str = Field(default="en-US", pattern=r"^[a-z]{2}-[A-Z]{2}$")
    base_time: UtcDateTime = Field(
        default=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        description="Calls start at base_time plus an offset (0-8 h) fixed by the transcript id.",
    )
    redacted: bool | None = Field(
        default=None, description="None: the redacted variant exactly when the record has phi spans."
    )
    agent_wpm: float = Field(default=150.0, gt=40, le=400)
    customer_wpm: float = Field(default=160.0, gt=40, le=400)
    seed: int = Field(default=0, description="Varies timing jitter, interruptions and loudness.")
    recordings_s3_prefix: str = Field(
        default="s3://transcript-foundry-recordings/connect/CallRecordings",
        pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^/]+)*$",
        description="Where CustomerMetadata.InputS3Uri says the (never produced) call recording is.",
    )

    @field_validator("account_id")
    @classmethod
    def _twelve_digits(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9]{12}", value):
            raise ValueError("account_id must be exactly 12 digits")
        return value

    @field_validator("instance_id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        return str(uuid.UUID(value))


def contact_id(transcript_id: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, transcript_id))


def item_id(transcript_id: str, index: int) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{transcript_id}#{index}"))


def call_start(transcript_id: str, options: ContactLensOptions) -> datetime:
    offset = int(deterministic_unit(transcript_id, "call-start") * CALL_WINDOW_S)
    return options.base_time + timedelta(seconds=offset)


def file_path(cid: str, start: datetime, redacted: bool) -> str:
    """``Analysis/Voice[/Redacted]/YYYY/MM/DD/<ContactId>_analysis[_redacted]_<YYYY-MM-DDTHH-MM-SSZ>.json``."""
    stamp = start.strftime("%Y-%m-%dT%H-%M-%SZ")
    folder = "Analysis/Voice/Redacted" if redacted else "Analysis/Voice"
    suffix = "analysis_redacted" if redacted else "analysis"
    return f"{folder}/{start:%Y/%m/%d}/{cid}_{suffix}_{stamp}.json"


def _merged_spans(record: Mapping[str, Any], turn: int, text: str) -> list[tuple[int, int]]:
    spans = sorted((int(p["start"]), int(p["end"])) for p in record.get("phi") or [] if p["turn"] == turn)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if not 0 <= start < end <= len(text):
            raise ValueError(
                f"{record['id']}: phi span {start}-{end} outside turn {turn} ({len(text)} chars)"
            )
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _mask(text: str, spans: Sequence[tuple[int, int]]) -> str:
    parts: list[str] = []
    cursor = 0
    for start, end in spans:
        parts += [text[cursor:start], PII_MASK]
        cursor = end
    return "".join([*parts, text[cursor:]])


def _redacted_timestamps(
    text: str, timing: TurnTiming, spans: Sequence[tuple[int, int]]
) -> list[dict[str, int]]:
    """Where each span falls in the turn's audio, in proportion to its character position."""
    out = []
    for start, end in spans:
        begin = timing.begin_ms + timing.duration_ms * start // len(text)
        finish = timing.begin_ms + -(-timing.duration_ms * end // len(text))
        out.append({"BeginOffsetMillis": begin, "EndOffsetMillis": max(finish, begin + 1)})
    return out


def sentences(content: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``content`` (no split after Mr., Dr. and the like)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for end in _SENTENCE_END.finditer(content):
        if _ABBREVIATION.search(content, start, end.start()):
            continue
        spans.append((start, end.end()))
        start = end.end()
    spans.append((start, len(content)))
    trimmed = []
    for begin, finish in spans:
        piece = content[begin:finish]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            trimmed.append((begin + lead, begin + len(piece.rstrip())))
    return trimmed


def key_sentence(content: str) -> dict[str, Any]:
    """The turn's first sentence that says something (four words or more, not a thanks or an apology;
    failing that its first sentence of four words or more, or its first), as ``CharacterOffsets`` +
    ``Text``."""
    spans = sentences(content)
    long = [(b, e) for b, e in spans if len(content[b:e].split()) >= 4]
    begin, end = next((s for s in long if not _PLEASANTRY.match(content[s[0] : s[1]])), (long or spans)[0])
    return {"CharacterOffsets": {"BeginOffsetChar": begin, "EndOffsetChar": end}, "Text": content[begin:end]}


def _loudness(
    transcript_id: str, index: int, timing: TurnTiming, speaker: str, label: str, seed: int
) -> list[float]:
    base = LOUDNESS_BASE.get(speaker, 60.0) + LOUDNESS_BY_SENTIMENT[label]
    seconds = math.ceil(timing.duration_ms / 1000)
    return [
        round(
            min(100.0, max(0.0, base + 8 * deterministic_unit(seed, transcript_id, index, s, "loud") - 4)), 2
        )
        for s in range(seconds)
    ]


def period(begin: int, end: int) -> dict[str, int]:
    return {"BeginOffsetMillis": begin, "DurationMillis": end - begin, "EndOffsetMillis": end}


def _characteristics(
    turns: Sequence[Mapping[str, Any]],
    contents: Sequence[str],
    timings: Sequence[TurnTiming],
    sentiments: Sequence[TurnSentiment],
) -> dict[str, Any]:
    total = timings[-1].end_ms if timings else 0
    spans = [(t.begin_ms, t.end_ms) for t in timings]
    speakers = [str(t["speaker"]) for t in turns]

    def of(role: str) -> tuple[list[TurnSentiment], list[tuple[int, int]]]:
        picked = [i for i, s in enumerate(speakers) if s == role]
        return [sentiments[i] for i in picked], [spans[i] for i in picked]

    talk = {r: sum(e - b for (b, e), s in zip(spans, speakers, strict=True) if s == r) for r in ROLES}
    words = {r: sum(word_count(c) for c, s in zip(contents, speakers, strict=True) if s == r) for r in ROLES}
    by_interrupter: dict[str, list[dict[str, int]]] = {}
    for index, overlap in overlaps(spans):
        by_interrupter.setdefault(speakers[index], []).append(period(overlap.begin_ms, overlap.end_ms))
    interruptions = [i for items in by_interrupter.values() for i in items]
    non_talk = [g for g in silences(spans, total) if g.duration_ms >= NON_TALK_THRESHOLD_MS]
    return {
        "TotalConversationDurationMillis": total,
        "Sentiment": {
            "OverallSentiment": {r: weighted_score(*of(r)) for r in ROLES},
            "SentimentByPeriod": {
                "QUARTER": {
                    r: [
                        {
                            "BeginOffsetMillis": b,
                            "EndOffsetMillis": e,
                            "Score": weighted_score(*of(r), (b, e)),
                        }
                        for b, e in quarters(total)
                    ]
                    for r in ROLES
                }
            },
        },
        "Interruptions": {
            "InterruptionsByInterrupter": by_interrupter,
            "TotalCount": len(interruptions),
            "TotalTimeMillis": sum(i["DurationMillis"] for i in interruptions),
        },
        "NonTalkTime": {
            "TotalTimeMillis": sum(g.duration_ms for g in non_talk),
            "Instances": [period(g.begin_ms, g.end_ms) for g in non_talk],
        },
        "TalkSpeed": {
            "DetailsByParticipant": {
                r: {"AverageWordsPerMinute": round(words[r] * 60_000 / talk[r]) if talk[r] else 0}
                for r in ROLES
            }
        },
        "TalkTime": {
            "TotalTimeMillis": talk_union_ms(spans),
            "DetailsByParticipant": {r: {"TotalTimeMillis": talk[r]} for r in ROLES},
        },
    }


def _content_metadata(record: Mapping[str, Any], redacted: bool) -> dict[str, Any]:
    # RedactionTypes on raw files too: the Lex designer's input format lists it as required.
    metadata: dict[str, Any] = {"Output": "Redacted" if redacted else "Raw", "RedactionTypes": ["PII"]}
    if redacted:
        kinds = sorted({str(p["kind"]).upper() for p in record.get("phi") or []})
        metadata["RedactionTypesMetadata"] = {
            "PII": {"RedactionEntitiesRequested": kinds, "RedactionMaskMode": "PII"}
        }
    return metadata


def _categories(scenario: Any, problem: TurnTiming | None) -> dict[str, Any]:
    """The scenario as a matched category, its point of interest the customer's problem statement."""
    if not scenario or problem is None:
        return {"MatchedCategories": [], "MatchedDetails": {}}
    point = {"BeginOffsetMillis": problem.begin_ms, "EndOffsetMillis": problem.end_ms}
    return {
        "MatchedCategories": [str(scenario)],
        "MatchedDetails": {str(scenario): {"PointsOfInterest": [point]}},
    }


def _transcript(
    record: Mapping[str, Any],
    timings: Sequence[TurnTiming],
    sentiments: Sequence[TurnSentiment],
    redacted: bool,
    seed: int,
) -> list[dict[str, Any]]:
    turns: list[Mapping[str, Any]] = record["turns"]
    rid = str(record["id"])
    acts = effective_acts(turns)
    issue_at = next(
        (i for i, a in enumerate(acts) if a == "state_problem" and turns[i]["speaker"] == "CUSTOMER"), None
    )
    outcome_at = max(
        (i for i, a in enumerate(acts) if a == "offer_solution" and turns[i]["speaker"] == "AGENT"),
        default=None,
    )
    items: list[dict[str, Any]] = []
    for i, (turn, timing, sentiment) in enumerate(zip(turns, timings, sentiments, strict=True)):
        text = str(turn["text"])
        spans = _merged_spans(record, i, text) if redacted else []
        content = _mask(text, spans)
        item: dict[str, Any] = {
            "BeginOffsetMillis": timing.begin_ms,
            "Content": content,
            "EndOffsetMillis": timing.end_ms,
            "Id": item_id(rid, i),
            "ParticipantId": turn["speaker"],
            "Sentiment": sentiment.label,
            "LoudnessScore": _loudness(rid, i, timing, str(turn["speaker"]), sentiment.label, seed),
        }
        if i == issue_at:
            item["IssuesDetected"] = [key_sentence(content)]
        if i == outcome_at:
            item["OutcomesDetected"] = [key_sentence(content)]
        if spans:
            item["Redaction"] = {"RedactedTimestamps": _redacted_timestamps(text, timing, spans)}
        items.append(item)
    return items


def render_record(record: Mapping[str, Any], options: ContactLensOptions) -> ExportFile:
    turns: list[Mapping[str, Any]] = record["turns"]
    rid = str(record["id"])
    if not turns:
        raise ValueError(f"{rid}: a Contact Lens file needs at least one turn")
    stray = [p for p in record.get("phi") or [] if not 0 <= int(p["turn"]) < len(turns)]
    if stray:
        raise ValueError(f"{rid}: phi span on turn {stray[0]['turn']}, which does not exist")
    redacted = bool(record.get("phi")) if options.redacted is None else options.redacted
    tone = record.get("emotional_tone")
    params = TimingParams(agent_wpm=options.agent_wpm, customer_wpm=options.customer_wpm)
    timings = turn_timings(rid, turns, tone, params, options.seed)
    sentiments = turn_sentiments(turns, tone)
    items = _transcript(record, timings, sentiments, redacted, options.seed)
    problem = next((timings[i] for i, item in enumerate(items) if "IssuesDetected" in item), None)
    cid = contact_id(rid)
    start = call_start(rid, options)
    doc = {
        "Participants": [{"ParticipantId": r, "ParticipantRole": r} for r in ROLES],
        "Version": VERSION,
        "ContentMetadata": _content_metadata(record, redacted),
        "CustomerMetadata": {
            "InputS3Uri": f"{options.recordings_s3_prefix}/{start:%Y/%m/%d}/{cid}_{start:%Y%m%dT%H%M}_UTC.wav",
            "ContactId": cid,
            "InstanceId": options.instance_id,
        },
        "Transcript": items,
        "AccountId": options.account_id,
        "Channel": "VOICE",
        "JobStatus": "COMPLETED",
        "LanguageCode": options.language_code,
        "Categories": _categories(record.get("scenario"), problem),
        "ConversationCharacteristics": _characteristics(
            turns, [str(item["Content"]) for item in items], timings, sentiments
        ),
    }
    return ExportFile(file_path(cid, start, redacted), json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def render(
    records: Sequence[Mapping[str, Any]], options: ContactLensOptions | None = None
) -> list[ExportFile]:
    """One Contact Lens JSON file per record, in record order."""
    options = options or ContactLensOptions()
    return [render_record(record, options) for record in records]


# --- validation ---------------------------------------------------------------------------------------
