"""Validating Contact Lens files: the JSON Schema, then the consistency rules between fields.

Offsets monotonic and inside the call, quarters contiguous and covering it, talk time and talk speed equal
to what the turns say, interruptions and non-talk instances exactly the overlaps and silences, redaction
consistent with the content, the file name consistent with the document. Problems read
``"<file>: <field path>: <message>"``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from transcript_foundry.formats.contact_lens import (
    LEADING_KEYS,
    NON_TALK_THRESHOLD_MS,
    PII_MASK,
    ROLES,
    SCHEMA_PATH,
    period,
)
from transcript_foundry.formats.timing_model import overlaps, silences, talk_union_ms, word_count

Problem = tuple[str, str]  # (field path, message)
_FILE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KEY = re.compile(
    r"(?:^|/)Analysis/Voice/(?P<red>Redacted/)?(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P<cid>[^/_]+)_analysis_(?:redacted_)?(?P<date>\d{4}-\d{2}-\d{2})T[^/]*\.json$"
)


@cache
def _schema_validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def json_path(parts: Sequence[str | int]) -> str:
    """``["Transcript", 3, "EndOffsetMillis"]`` → ``Transcript[3].EndOffsetMillis`` (``$`` for the root)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


def schema_problems(doc: Any) -> list[Problem]:
    found: list[Problem] = []
    for error in _schema_validator().iter_errors(doc):
        parts = list(error.absolute_path)
        message = error.message
        missing = re.fullmatch(r"'(.+)' is a required property", message)
        if error.validator == "required" and missing:
            parts.append(missing.group(1))
            message = "is a required property"
        if len(message) > 200:
            message = message[:197] + "..."
        found.append((json_path(parts), message))
    return sorted(found)


def _guarded(check: Callable[..., Iterator[Problem]], *args: Any) -> list[Problem]:
    """A check's problems, up to where the document is too broken for it (the schema reports that)."""
    found: list[Problem] = []
    try:
        for problem in check(*args):
            found.append(problem)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ZeroDivisionError):
        pass
    return found


def _check_file_name(doc: dict[str, Any], name: str) -> Iterator[Problem]:
    base = name.rsplit("/", 1)[-1]
    if not _FILE_DATE.search(base):
        yield "(file name)", "needs a yyyy-mm-dd date (the Lex chatbot designer expects one)"
    key = _KEY.search(name)
    if key is None:
        return
    if key["cid"] != doc["CustomerMetadata"]["ContactId"]:
        yield "CustomerMetadata.ContactId", f"differs from the file name's contact id {key['cid']}"
    if key["date"] != f"{key['y']}-{key['m']}-{key['d']}":
        yield (
            "(file name)",
            f"date {key['date']} differs from the folder date {key['y']}/{key['m']}/{key['d']}",
        )
    if bool(key["red"]) != (doc["ContentMetadata"]["Output"] == "Redacted"):
        yield (
            "ContentMetadata.Output",
            f"{doc['ContentMetadata']['Output']!r} does not match the file's folder",
        )


def _check_key_order(doc: dict[str, Any]) -> Iterator[Problem]:
    present = [k for k in LEADING_KEYS if k in doc]
    if list(doc)[: len(present)] != present:
        yield (
            "$",
            f"top-level keys must start with {', '.join(present)} in that order (the Lex chatbot"
            f" designer rejects the file otherwise); found {', '.join(list(doc)[: len(present)])}",
        )


def _spans(doc: dict[str, Any]) -> list[tuple[int, int]]:
    """The items' offsets; ValueError (skipping the totals checks) when an item ends before it begins,
    which ``_check_transcript`` reports on its own."""
    spans = [(int(t["BeginOffsetMillis"]), int(t["EndOffsetMillis"])) for t in doc["Transcript"]]
    if any(end <= begin for begin, end in spans):
        raise ValueError("inverted item")
    return spans


def _check_offsets(doc: dict[str, Any]) -> Iterator[Problem]:
    total = doc["ConversationCharacteristics"].get("TotalConversationDurationMillis")
    previous_begin = 0
    for i, item in enumerate(doc["Transcript"]):
        begin, end = item.get("BeginOffsetMillis"), item.get("EndOffsetMillis")
        if not isinstance(begin, int) or not isinstance(end, int):
            continue
        if end <= begin:
            yield f"Transcript[{i}].EndOffsetMillis", f"{end} is not after BeginOffsetMillis {begin}"
        if begin < previous_begin:
            yield (
                f"Transcript[{i}].BeginOffsetMillis",
                f"{begin} is before the previous item's {previous_begin}",
            )
        previous_begin = max(previous_begin, begin)
        if isinstance(total, int) and end > total:
            yield (
                f"Transcript[{i}].EndOffsetMillis",
                f"{end} is after TotalConversationDurationMillis {total}",
            )


def _check_item(i: int, item: dict[str, Any], participants: set[str], seen: set[str]) -> Iterator[Problem]:
    if item["ParticipantId"] not in participants:
        yield f"Transcript[{i}].ParticipantId", f"{item['ParticipantId']!r} is not in Participants"
    if item["Id"] in seen:
        yield f"Transcript[{i}].Id", f"{item['Id']!r} repeats an earlier item's Id"
    seen.add(item["Id"])
    for field in ("IssuesDetected", "OutcomesDetected", "ActionItemsDetected"):
        for k, span in enumerate(item.get(field, [])):
            b, e = span["CharacterOffsets"]["BeginOffsetChar"], span["CharacterOffsets"]["EndOffsetChar"]
            if not 0 <= b < e <= len(item["Content"]) or item["Content"][b:e] != span["Text"]:
                yield f"Transcript[{i}].{field}[{k}]", f"offsets {b}-{e} do not locate its Text in Content"
    duration = item["EndOffsetMillis"] - item["BeginOffsetMillis"]
    want = math.ceil(duration / 1000)
    if duration > 0 and len(item["LoudnessScore"]) != want:
        yield (
            f"Transcript[{i}].LoudnessScore",
            f"has {len(item['LoudnessScore'])} values, want {want} (one a second)",
        )


def _check_transcript(doc: dict[str, Any]) -> Iterator[Problem]:
    yield from _guarded(_check_offsets, doc)
    participants = {p["ParticipantId"] for p in doc["Participants"] if isinstance(p, dict)}
    seen: set[str] = set()
    for i, item in enumerate(doc["Transcript"]):
        yield from _guarded(_check_item, i, item, participants, seen)


def _check_redaction(doc: dict[str, Any]) -> Iterator[Problem]:
    redacted = doc["ContentMetadata"]["Output"] == "Redacted"
    for i, item in enumerate(doc["Transcript"]):
        if "Redaction" not in item:
            continue
        if not redacted:
            yield f"Transcript[{i}].Redaction", "present in a Raw file"
            continue
        stamps = item["Redaction"]["RedactedTimestamps"]
        if len(stamps) != item["Content"].count(PII_MASK):
            yield (
                f"Transcript[{i}].Redaction.RedactedTimestamps",
                f"{len(stamps)} stamps for {item['Content'].count(PII_MASK)} {PII_MASK} marks",
            )
        for k, stamp in enumerate(stamps):
            if (
                not item["BeginOffsetMillis"]
                <= stamp["BeginOffsetMillis"]
                < stamp["EndOffsetMillis"]
                <= item["EndOffsetMillis"]
            ):
                yield f"Transcript[{i}].Redaction.RedactedTimestamps[{k}]", "not inside the item's offsets"


def _check_periods(doc: dict[str, Any]) -> Iterator[Problem]:
    chars = doc["ConversationCharacteristics"]
    total = chars["TotalConversationDurationMillis"]
    for role, periods in chars["Sentiment"]["SentimentByPeriod"]["QUARTER"].items():
        bounds = [(p["BeginOffsetMillis"], p["EndOffsetMillis"]) for p in periods]
        joined = all(bounds[k][1] == bounds[k + 1][0] for k in range(len(bounds) - 1))
        if not bounds or bounds[0][0] != 0 or bounds[-1][1] != total or not joined:
            yield (
                f"ConversationCharacteristics.Sentiment.SentimentByPeriod.QUARTER.{role}",
                f"periods {bounds} do not cover [0, {total}] contiguously",
            )
    for name, detail in doc["Categories"]["MatchedDetails"].items():
        for k, point in enumerate(detail["PointsOfInterest"]):
            if not 0 <= point["BeginOffsetMillis"] < point["EndOffsetMillis"] <= total:
                yield f"Categories.MatchedDetails.{name}.PointsOfInterest[{k}]", f"not inside [0, {total}]"
    for name in doc["Categories"]["MatchedCategories"]:
        if name not in doc["Categories"]["MatchedDetails"]:
            yield "Categories.MatchedDetails", f"has no entry for matched category {name!r}"


def _check_roles_present(doc: dict[str, Any]) -> Iterator[Problem]:
    role_of = {p["ParticipantId"]: p["ParticipantRole"] for p in doc["Participants"]}
    talking = sorted(
        {role_of[t["ParticipantId"]] for t in doc["Transcript"] if t["ParticipantId"] in role_of}
    )
    chars = doc["ConversationCharacteristics"]
    per_role = {
        "Sentiment.OverallSentiment": chars["Sentiment"]["OverallSentiment"],
        "Sentiment.SentimentByPeriod.QUARTER": chars["Sentiment"]["SentimentByPeriod"]["QUARTER"],
        "TalkSpeed.DetailsByParticipant": chars["TalkSpeed"]["DetailsByParticipant"],
        "TalkTime.DetailsByParticipant": chars["TalkTime"]["DetailsByParticipant"],
    }
    for path, by_role in per_role.items():
        for role in talking:
            if role not in by_role:
                yield f"ConversationCharacteristics.{path}.{role}", "missing for a participant who talks"


def _check_role_talk(doc: dict[str, Any], role: str) -> Iterator[Problem]:
    chars = doc["ConversationCharacteristics"]
    role_of = {p["ParticipantId"]: p["ParticipantRole"] for p in doc["Participants"]}
    mine = [
        (t, b, e)
        for t, (b, e) in zip(doc["Transcript"], _spans(doc), strict=True)
        if role_of[t["ParticipantId"]] == role
    ]
    talk = sum(e - b for _, b, e in mine)
    words = sum(word_count(t["Content"]) for t, _, _ in mine)
    reported = chars["TalkTime"]["DetailsByParticipant"][role]["TotalTimeMillis"]
    if reported != talk:
        yield (
            f"ConversationCharacteristics.TalkTime.DetailsByParticipant.{role}.TotalTimeMillis",
            f"{reported} != {talk}, the sum of its items' durations",
        )
    speed = chars["TalkSpeed"]["DetailsByParticipant"][role]["AverageWordsPerMinute"]
    if talk and speed != round(words * 60_000 / talk):
        yield (
            f"ConversationCharacteristics.TalkSpeed.DetailsByParticipant.{role}.AverageWordsPerMinute",
            f"{speed} != {round(words * 60_000 / talk)} ({words} words in {talk} ms)",
        )


def _check_time_totals(doc: dict[str, Any]) -> Iterator[Problem]:
    chars = doc["ConversationCharacteristics"]
    total = chars["TotalConversationDurationMillis"]
    spans = _spans(doc)
    for role in ROLES:
        yield from _guarded(_check_role_talk, doc, role)
    union = talk_union_ms(spans)
    talk_total = chars["TalkTime"]["TotalTimeMillis"]
    if talk_total != union or union > total:
        yield (
            "ConversationCharacteristics.TalkTime.TotalTimeMillis",
            f"{talk_total} != {union}, the time anyone talks (max {total})",
        )
    gaps = silences(spans, total)
    if talk_total + sum(g.duration_ms for g in gaps) != total:
        yield (
            "ConversationCharacteristics.TalkTime.TotalTimeMillis",
            "talk time plus every silence is not the call's duration",
        )


def _check_non_talk(doc: dict[str, Any]) -> Iterator[Problem]:
    chars = doc["ConversationCharacteristics"]
    gaps = silences(_spans(doc), chars["TotalConversationDurationMillis"])
    non_talk = chars["NonTalkTime"]
    want = [period(g.begin_ms, g.end_ms) for g in gaps if g.duration_ms >= NON_TALK_THRESHOLD_MS]
    if non_talk["Instances"] != want:
        yield (
            "ConversationCharacteristics.NonTalkTime.Instances",
            f"differ from the silences of {NON_TALK_THRESHOLD_MS} ms or more: {want}",
        )
    if non_talk["TotalTimeMillis"] != sum(i["DurationMillis"] for i in non_talk["Instances"]):
        yield "ConversationCharacteristics.NonTalkTime.TotalTimeMillis", "is not the sum of its Instances"


def _check_interruptions(doc: dict[str, Any]) -> Iterator[Problem]:
    chars = doc["ConversationCharacteristics"]
    role_of = {p["ParticipantId"]: p["ParticipantRole"] for p in doc["Participants"]}
    want: dict[str, list[dict[str, int]]] = {}
    for index, overlap in overlaps(_spans(doc)):
        role = role_of[doc["Transcript"][index]["ParticipantId"]]
        want.setdefault(role, []).append(period(overlap.begin_ms, overlap.end_ms))
    reported = chars["Interruptions"]
    if reported["InterruptionsByInterrupter"] != want:
        yield (
            "ConversationCharacteristics.Interruptions.InterruptionsByInterrupter",
            f"differs from the transcript's overlaps: {want}",
        )
    listed = [i for items in reported["InterruptionsByInterrupter"].values() for i in items]
    if reported["TotalCount"] != len(listed):
        yield (
            "ConversationCharacteristics.Interruptions.TotalCount",
            f"{reported['TotalCount']} != {len(listed)} listed",
        )
    if reported["TotalTimeMillis"] != sum(i["DurationMillis"] for i in listed):
        yield (
            "ConversationCharacteristics.Interruptions.TotalTimeMillis",
            "is not the sum of the listed durations",
        )
    for group in ("Interruptions", "NonTalkTime"):
        items = listed if group == "Interruptions" else chars["NonTalkTime"]["Instances"]
        for k, item in enumerate(items):
            if item["EndOffsetMillis"] - item["BeginOffsetMillis"] != item["DurationMillis"]:
                yield (
                    f"ConversationCharacteristics.{group}[{k}].DurationMillis",
                    "is not EndOffsetMillis - BeginOffsetMillis",
                )


def consistency_problems(doc: Any, name: str) -> list[Problem]:
    """Cross-field rules the schema cannot express (see docs/formats/contact-lens.md)."""
    if not isinstance(doc, dict):
        return []
    found: list[Problem] = []
    found += _guarded(_check_file_name, doc, name)
    for check in (
        _check_key_order,
        _check_transcript,
        _check_redaction,
        _check_periods,
        _check_roles_present,
        _check_time_totals,
        _check_non_talk,
        _check_interruptions,
    ):
        found += _guarded(check, doc)
    return found


def validate(root: Path, files: Sequence[str]) -> list[str]:
    """Schema problems and consistency problems of each file, as ``"<file>: <field path>: <message>"``."""
    problems: list[str] = []
    for name in files:
        try:
            doc = json.loads((root / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"{name}: $: cannot read as JSON: {exc}")
            continue
        problems += [f"{name}: {path}: {message}" for path, message in schema_problems(doc)]
        problems += [f"{name}: {path}: {message}" for path, message in consistency_problems(doc, name)]
    return problems
