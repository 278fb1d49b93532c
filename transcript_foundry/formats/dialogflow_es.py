"""Dialogflow ES agent (NLU only): customer turns as training phrases of one intent per label.

The files form an agent folder that, zipped, imports with the console's "Restore from ZIP" / "Import
from ZIP"::

    agent.json                          minimal agent settings (name, language, time zone, ML threshold)
    package.json                        {"version": "1.0.0"}
    intents/<intent>.json               intent definition (no contexts, parameters or responses)
    intents/<intent>_usersays_en.json   its training phrases, one per distinct customer turn

Intents are the turn labels of ``turn_labels`` (generic intents plus the scenario ids of the domain
packs); only intents seen in the records get files. Ids are UUID5s of the intent name and phrase text, so
re-exporting the same records gives identical files. Field reference: docs/formats/ccai-dialogflow.md.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from transcript_foundry.formats.ccai import dump_json, json_schema_problems, load_json_schema, read_json
from transcript_foundry.formats.export_file import ExportFile
from transcript_foundry.formats.turn_labels import customer_intent

ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://transcript-foundry.local/formats/dialogflow-es")
MAX_PHRASE_CHARS = 768  # Dialogflow ES quota: characters per training phrase
MAX_PHRASES_PER_INTENT = 2000  # Dialogflow ES quota: training phrases per intent and language
PACKAGE = {"version": "1.0.0"}
SCHEMAS = {
    "agent": "dialogflow_es_agent.schema.json",
    "package": "dialogflow_es_package.schema.json",
    "intent": "dialogflow_es_intent.schema.json",
    "usersays": "dialogflow_es_usersays.schema.json",
}
_USERSAYS = re.compile(r"^intents/(?P<intent>.+)_usersays_(?P<lang>[a-z]{2}(?:-[a-z]{2,4})?)\.json$")
_INTENT = re.compile(r"^intents/(?P<intent>[^/]+)\.json$")


class DialogflowEsOptions(BaseModel):
    """Agent settings; ``DialogflowEsOptions.model_validate(dict)`` takes the same keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_name: str = Field(default="transcript-foundry", min_length=1, description="agent.json displayName.")
    language: str = Field(default="en", pattern=r"^[a-z]{2}(-[a-z]{2,4})?$", description="Dialogflow code.")
    time_zone: str = Field(
        default="America/New_York", min_length=1, description="agent.json defaultTimezone."
    )
    max_phrases_per_intent: int = Field(default=MAX_PHRASES_PER_INTENT, ge=1, le=MAX_PHRASES_PER_INTENT)


def coerce_options(options: DialogflowEsOptions | Mapping[str, Any] | None) -> DialogflowEsOptions:
    if options is None:
        return DialogflowEsOptions()
    if isinstance(options, DialogflowEsOptions):
        return options
    return DialogflowEsOptions.model_validate(dict(options))


# --- labelled customer phrases (shared with the Rasa export) ---------------------------------------------


def customer_turns(records: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, str]]:
    """``(intent, raw text)`` for every customer turn, in record and turn order."""
    for record in records:
        for i, turn in enumerate(record["turns"]):
            if turn["speaker"] == "CUSTOMER":
                yield customer_intent(dict(record), i), str(turn["text"])


def phrases_by_intent(
    records: Iterable[Mapping[str, Any]], clean: Callable[[str], str]
) -> dict[str, list[str]]:
    """Distinct cleaned customer phrases per intent, intents sorted by name, phrases in first-seen order.

    A phrase labelled with several intents (``"Thank you."`` as ``thank`` in one call and ``affirm`` in
    another) is kept once, under the intent it carries most often (ties: the one seen first), so no
    training phrase contradicts another. Intents every phrase of which went elsewhere still get a key.
    """
    votes: dict[str, Counter[str]] = {}
    first_seen: dict[str, dict[str, int]] = {}
    intents: list[str] = []
    for n, (intent, raw) in enumerate(customer_turns(records)):
        if intent not in intents:
            intents.append(intent)
        text = clean(raw)
        if not text:
            continue
        votes.setdefault(text, Counter())[intent] += 1
        first_seen.setdefault(text, {}).setdefault(intent, n)
    out: dict[str, list[str]] = {intent: [] for intent in sorted(intents)}
    for text, counter in votes.items():
        winner = max(counter, key=lambda i: (counter[i], -first_seen[text][i]))
        out[winner].append(text)
    return out


def normalise_space(text: str) -> str:
    return " ".join(text.split())


# --- render ----------------------------------------------------------------------------------------------


def intent_id(name: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"intent\x1f{name}"))


def phrase_id(name: str, text: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"phrase\x1f{name}\x1f{text}"))


def agent_settings(opts: DialogflowEsOptions) -> dict[str, Any]:
    """The minimal ``agent.json``: the fields a console export always carries, webhook off."""
    return {
        "description": "Synthetic contact-center intents generated by Transcript Foundry.",
        "language": opts.language,
        "displayName": opts.agent_name,
        "defaultTimezone": opts.time_zone,
        "disableInteractionLogs": False,
        "disableStackdriverLogs": True,
        "isPrivate": True,
        "customClassifierMode": "use.after",
        "mlMinConfidence": 0.3,
        "supportedLanguages": [],
        "onePlatformApiVersion": "v2",
        "analyzeQueryTextSentiment": False,
        "enabledKnowledgeBaseNames": [],
        "knowledgeServiceConfidenceAdjustment": -0.4,
        "dialogBuilderMode": False,
    }


def intent_definition(name: str, opts: DialogflowEsOptions) -> dict[str, Any]:
    """``intents/<name>.json``: ML-matched, no contexts, no parameters, an empty text response."""
    return {
        "id": intent_id(name),
        "name": name,
        "auto": True,
        "contexts": [],
        "responses": [
            {
                "resetContexts": False,
                "action": "",
                "affectedContexts": [],
                "parameters": [],
                "messages": [
                    {
                        "type": "0",
                        "title": "",
                        "textToSpeech": "",
                        "lang": opts.language,
                        "speech": [],
                        "condition": "",
                    }
                ],
                "speech": [],
            }
        ],
        "priority": 500000,
        "webhookUsed": False,
        "webhookForSlotFilling": False,
        "fallbackIntent": False,
        "events": [],
    }


def training_phrases(name: str, texts: list[str], opts: DialogflowEsOptions) -> list[dict[str, Any]]:
    """``intents/<name>_usersays_<lang>.json``: one example-mode phrase (a single text part) per text."""
    return [
        {
            "id": phrase_id(name, text),
            "data": [{"text": text, "userDefined": False}],
            "isTemplate": False,
            "count": 0,
            "lang": opts.language,
            "updated": 0,
        }
        for text in texts
    ]


def _phrase_text(raw: str) -> str:
    text = normalise_space(raw)
    return text if len(text) <= MAX_PHRASE_CHARS else ""  # over the quota: left out, never cut mid-sentence


def render(
    records: list[dict[str, Any]], options: DialogflowEsOptions | Mapping[str, Any] | None = None
) -> list[ExportFile]:
    """``agent.json``, ``package.json`` and two files per intent that has at least one phrase."""
    opts = coerce_options(options)
    files = [
        ExportFile("agent.json", dump_json(agent_settings(opts))),
        ExportFile("package.json", dump_json(PACKAGE)),
    ]
    for name, texts in phrases_by_intent(records, _phrase_text).items():
        if not texts:
            continue
        files.append(ExportFile(f"intents/{name}.json", dump_json(intent_definition(name, opts))))
        phrases = training_phrases(name, texts[: opts.max_phrases_per_intent], opts)
        files.append(ExportFile(f"intents/{name}_usersays_{opts.language}.json", dump_json(phrases)))
    return files


# --- validate --------------------------------------------------------------------------------------------


def _kind(file: str) -> tuple[str, str | None, str | None]:
    """``(schema kind, intent name, language)`` of a file by its path in the agent folder."""
    if file == "agent.json":
        return "agent", None, None
    if file == "package.json":
        return "package", None, None
    if m := _USERSAYS.match(file):
        return "usersays", m["intent"], m["lang"]
    if m := _INTENT.match(file):
        return "intent", m["intent"], None
    return "unknown", None, None


def _usersays_problems(file: str, data: Any) -> list[str]:
    problems: list[str] = []
    if not isinstance(data, list):
        return problems
    ids: dict[str, int] = {}
    texts: dict[str, int] = {}
    for i, phrase in enumerate(data):
        if not isinstance(phrase, dict) or not isinstance(phrase.get("data"), list):
            continue
        text = "".join(str(p.get("text", "")) for p in phrase["data"] if isinstance(p, dict))
        if len(text) > MAX_PHRASE_CHARS:
            problems.append(
                f"{file}: [{i}].data: phrase is {len(text)} characters; Dialogflow allows {MAX_PHRASE_CHARS}"
            )
        if text in texts:
            problems.append(f"{file}: [{i}].data: same phrase as [{texts[text]}]")
        texts.setdefault(text, i)
        pid = phrase.get("id")
        if isinstance(pid, str):
            if pid in ids:
                problems.append(f"{file}: [{i}].id: {pid} is also the id of [{ids[pid]}]")
            ids.setdefault(pid, i)
    if len(data) > MAX_PHRASES_PER_INTENT:
        problems.append(
            f"{file}: $: {len(data)} phrases; Dialogflow allows {MAX_PHRASES_PER_INTENT} per intent"
        )
    return problems


def validate(root: Path, files: list[str]) -> list[str]:
    """Each file against its schema in schemas/, plus the checks a ZIP import needs: intent name equals
    the file name, each phrase file has its intent file, ids are unique, agent.json and package.json
    are there, phrase languages match the agent's."""
    problems: list[str] = []
    intent_ids: dict[str, str] = {}
    languages: dict[str, str] = {}
    agent: Any = None
    for file in files:
        kind, intent, lang = _kind(file)
        if kind == "unknown":
            problems.append(
                f"{file}: $: not a Dialogflow ES agent file (expected agent.json, package.json, "
                "intents/<name>.json or intents/<name>_usersays_<lang>.json)"
            )
            continue
        data, read_problems = read_json(root, file)
        if read_problems:
            problems.extend(read_problems)
            continue
        problems.extend(json_schema_problems(file, data, load_json_schema(SCHEMAS[kind])))
        if kind == "agent":
            agent = data
        elif kind == "usersays":
            problems.extend(_usersays_problems(file, data))
            languages[file] = str(lang)
            if f"intents/{intent}.json" not in files and not (root / f"intents/{intent}.json").is_file():
                problems.append(f"{file}: $: no intents/{intent}.json defines the intent these phrases train")
        elif kind == "intent" and isinstance(data, dict):
            if data.get("name") != intent:
                problems.append(f"{file}: name: {data.get('name')!r} differs from the file name {intent!r}")
            if isinstance(data.get("id"), str):
                if data["id"] in intent_ids:
                    problems.append(f"{file}: id: {data['id']} is also the id of {intent_ids[data['id']]}")
                intent_ids.setdefault(data["id"], file)
    if intent_ids or languages:
        for required in ("agent.json", "package.json"):
            if required not in files and not (root / required).is_file():
                problems.append(f"{required}: $: missing; an agent ZIP needs it at its root")
    if isinstance(agent, dict):
        allowed = {agent.get("language"), *(agent.get("supportedLanguages") or [])}
        for file, lang in languages.items():
            if lang not in allowed:
                problems.append(
                    f"{file}: $: language {lang!r} is not one of the agent's ({sorted(map(str, allowed))})"
                )
    return problems
