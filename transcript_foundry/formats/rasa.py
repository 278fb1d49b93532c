"""Rasa 3.x training data (YAML, ``version: "3.1"``): NLU examples, one end-to-end story per call, a domain.

Files (relative to the export folder, the layout of a Rasa project)::

    data/nlu.yml      one item per intent: ``examples: |`` block of ``- <customer turn>`` lines (deduped)
    data/stories.yml  one story per transcript: customer turns as ``user:`` text + ``intent:``, agent turns
                      as ``action: utter_<act>`` (or, with ``agent_steps="bot"``, as end-to-end ``bot:`` text)
    domain.yml        every intent used, every ``utter_*`` action used, and a response for each with up
                      to ``max_responses_per_action`` distinct agent turn texts

Labels come from ``turn_labels``. Text is cleaned of what Rasa's example syntax would misread (entity
markup brackets, a leading ``- `` or ``/``, line breaks) and the YAML is written by PyYAML's emitter, so
quoting is always right. ``validate`` checks each file with pykwalify against Rasa's own schemas (copied
into schemas/rasa/) and then the cross-file rules ``rasa data validate`` enforces. Field reference and
decisions: docs/formats/rasa.md.
"""

from __future__ import annotations

import copy
import logging
import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from transcript_foundry.formats.ccai import field_path
from transcript_foundry.formats.dialogflow_es import phrases_by_intent
from transcript_foundry.formats.export_file import ExportFile
from transcript_foundry.formats.turn_labels import agent_action, customer_intent

VERSION = "3.1"
NLU_FILE = "data/nlu.yml"
STORIES_FILE = "data/stories.yml"
DOMAIN_FILE = "domain.yml"
SCHEMA_DIR = Path(__file__).parent / "schemas" / "rasa"
EXTENSIONS_FILE = Path(__file__).with_name("rasa_schema_extensions.py")
# Actions and intents every Rasa assistant has without declaring them.
DEFAULT_ACTIONS = frozenset(
    {
        "action_listen",
        "action_restart",
        "action_session_start",
        "action_default_fallback",
        "action_deactivate_loop",
        "action_revert_fallback_events",
        "action_default_ask_affirmation",
        "action_default_ask_rephrase",
        "action_two_stage_fallback",
        "action_unlikely_intent",
        "action_back",
        "action_extract_slots",
    }
)
DEFAULT_INTENTS = frozenset({"back", "restart", "session_start", "nlu_fallback", "out_of_scope"})
# Rasa's inline entity annotation: [text](entity), [text]{"entity": ...} or [text][{...}].
ENTITY_MARKUP = re.compile(
    r"\[(?P<text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?::[^)]+)?\)|\{(?P<dict>[^}]+?)\}|\[(?P<list>.*?)\])"
)
_MARKUP_CHARS = re.compile(r"[\[\]{}()]")
_LEADING_MARKERS = re.compile(r"^[\s\-*/]+")


class RasaOptions(BaseModel):
    """How stories and the domain are written; ``RasaOptions.model_validate(dict)`` takes the same keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_steps: Literal["action", "bot"] = Field(
        default="action",
        description="'action': agent turns are `action: utter_<act>` steps (texts become domain responses); "
        "'bot': end-to-end `bot: <text>` steps (no utter_ actions or responses).",
    )
    max_responses_per_action: int = Field(default=5, ge=1, le=100)


def coerce_options(options: RasaOptions | Mapping[str, Any] | None) -> RasaOptions:
    if options is None:
        return RasaOptions()
    return options if isinstance(options, RasaOptions) else RasaOptions.model_validate(dict(options))


# --- text cleaning ---------------------------------------------------------------------------------------


def user_text(raw: str) -> str:
    """A customer turn as a Rasa example: one line, no ``[]{}()`` (read as entity markup), no leading
    ``- ``/``*``/``/`` (a list marker, or ``/intent`` shorthand)."""
    text = " ".join(_MARKUP_CHARS.sub("", raw.replace("](", "] (")).split())
    return " ".join(_LEADING_MARKERS.sub("", text).split())


def bot_text(raw: str) -> str:
    """An agent turn as a response or ``bot:`` text: one line, braces (Rasa fills ``{slot}``) as parens."""
    return " ".join(raw.replace("{", "(").replace("}", ")").split())


# --- YAML emitter ----------------------------------------------------------------------------------------


class Block(str):
    """A string written as a YAML literal block (``|``), as Rasa's docs write examples and user text."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_representer(
    Block, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|")
)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000)


# --- render ----------------------------------------------------------------------------------------------


def story(record: Mapping[str, Any], opts: RasaOptions) -> dict[str, Any]:
    """One transcript as an end-to-end story; a customer turn whose text cleans to nothing keeps
    only its intent."""
    steps: list[dict[str, Any]] = []
    for i, turn in enumerate(record["turns"]):
        if turn["speaker"] == "CUSTOMER":
            text = user_text(str(turn["text"]))
            label = customer_intent(dict(record), i)
            steps.append({"user": Block(text + "\n"), "intent": label} if text else {"intent": label})
        elif opts.agent_steps == "action":
            steps.append({"action": agent_action(turn)})
        elif text := bot_text(str(turn["text"])):
            steps.append({"bot": text})
    return {"story": str(record["id"]), "steps": steps}


def responses(records: list[dict[str, Any]], opts: RasaOptions) -> dict[str, list[dict[str, str]]]:
    """Up to ``max_responses_per_action`` distinct agent texts per ``utter_*`` action, first seen first."""
    texts: dict[str, list[str]] = {}
    for record in records:
        for turn in record["turns"]:
            if turn["speaker"] != "AGENT":
                continue
            found = texts.setdefault(agent_action(turn), [])
            text = bot_text(str(turn["text"]))
            if text and text not in found and len(found) < opts.max_responses_per_action:
                found.append(text)
    return {
        action: [{"text": t} for t in (found or [action.removeprefix("utter_").replace("_", " ")])]
        for action, found in sorted(texts.items())
    }


def render(
    records: list[dict[str, Any]], options: RasaOptions | Mapping[str, Any] | None = None
) -> list[ExportFile]:
    """``data/nlu.yml``, ``data/stories.yml`` and ``domain.yml`` for all records together."""
    opts = coerce_options(options)
    examples = phrases_by_intent(records, user_text)
    nlu = [
        {"intent": name, "examples": Block("".join(f"- {t}\n" for t in texts))}
        for name, texts in examples.items()
        if texts
    ]
    stories = [story(record, opts) for record in records]
    intents = set(examples) | {s["intent"] for st in stories for s in st["steps"] if "intent" in s}
    domain: dict[str, Any] = {"version": VERSION, "intents": sorted(intents)}
    if opts.agent_steps == "action":
        domain_responses = responses(records, opts)
        domain["actions"] = list(domain_responses)
        domain["responses"] = domain_responses
    return [
        ExportFile(NLU_FILE, dump_yaml({"version": VERSION, "nlu": nlu})),
        ExportFile(STORIES_FILE, dump_yaml({"version": VERSION, "stories": stories})),
        ExportFile(DOMAIN_FILE, dump_yaml(domain)),
    ]


# --- validate: schemas -----------------------------------------------------------------------------------


@cache
def _schema(name: str) -> dict[str, Any]:
    """Rasa's schema ``name`` merged with the ``responses`` partial schema it may include."""
    data: dict[str, Any] = {}
    for file in (f"{name}.yml", "responses.yml"):
        data.update(yaml.safe_load((SCHEMA_DIR / file).read_text(encoding="utf-8")))
    return data


@cache
def _schema_keys(name: str) -> frozenset[str]:
    """Every mapping key the schema defines anywhere (to tell a misplaced key from an unknown one)."""
    keys: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            mapping = node.get("mapping")
            if isinstance(mapping, dict):
                keys.update(k for k in mapping if not k.startswith(("regex;", "re;")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(_schema(name))
    return frozenset(keys)


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """pykwalify logs every failed validation at ERROR; the problems are returned instead."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


_PATH_SUFFIX = re.compile(r"\.?\s*(?:Value )?[Pp]ath:? '?[^']*'?\.?\s*$")


def _pykwalify_path(path: str, key: str | None) -> str:
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in path.strip("/").split("/") if p]
    if key is not None:
        parts.append(key)
    return field_path(parts)


def schema_problems(file: str, data: Any, schema: str) -> list[str]:
    """Problems of ``data`` against Rasa's pykwalify schema ``schema`` (``nlu``, ``stories``, ``domain``)."""
    from pykwalify.core import Core
    from pykwalify.errors import PyKwalifyException

    with _quiet("pykwalify"), warnings.catch_warnings():
        # pykwalify 1.8 loads extension files with the deprecated SourceFileLoader.load_module
        warnings.filterwarnings("ignore", "the load_module", DeprecationWarning)
        try:
            core = Core(
                source_data=data,
                schema_data=copy.deepcopy(_schema(schema)),
                extensions=[str(EXTENSIONS_FILE)],
            )
            core.validate(raise_exception=False)
        except PyKwalifyException as exc:
            return [f"{file}: $: schema check failed: {exc.msg}"]
    found: list[tuple[str, str | None, str]] = []
    for err in core.errors:
        key = getattr(err, "key", None)
        message = _PATH_SUFFIX.sub("", repr(err))
        if m := _NOT_A.match(message):
            message = f"expected a {m['kind']}"
        undefined = isinstance(key, str) and message.startswith("Key ")
        found.append((str(err.path), key if undefined else None, message))
    return [f"{file}: {line}" for line in _tidy(found, _schema_keys(schema))]


_NOT_A = re.compile(r"^Value '.*' is not a (?P<kind>\w+)$", re.DOTALL)


def _tidy(found: list[tuple[str, str | None, str]], known: frozenset[str]) -> list[str]:
    """``<field path>: <message>`` lines, deduped. An item of a ``matching: any`` sequence that fits no
    alternative gets "Key 'x' was not defined" from every alternative: report the keys the schema defines
    nowhere (the real culprits) if there are any, else the combination of known keys as one problem."""
    undefined: dict[str, list[str]] = {}
    for path, key, _ in found:
        if key is not None and key not in undefined.setdefault(path, []):
            undefined[path].append(key)
    lines: list[str] = []
    for path, key, message in found:
        keys = undefined.get(path, [])
        culprits = [k for k in keys if k not in known]
        if key is None:
            line = f"{_pykwalify_path(path, None)}: {message}"
        elif culprits or len(keys) == 1:
            if culprits and key not in culprits:
                continue
            line = f"{_pykwalify_path(path, key)}: {message}"
        else:
            line = (
                f"{_pykwalify_path(path, None)}: keys {', '.join(map(repr, sorted(keys)))} "
                "cannot be combined here (no alternative of the schema allows them together)"
            )
        if line not in lines:
            lines.append(line)
    return lines


# --- validate: files and cross-file rules ----------------------------------------------------------------


def _read_yaml(root: Path, file: str) -> tuple[Any, list[str]]:
    try:
        return yaml.safe_load((root / file).read_text(encoding="utf-8")), []
    except FileNotFoundError:
        return None, [f"{file}: $: file not found"]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{file}: $: cannot read: {exc}"]
    except yaml.YAMLError as exc:
        return None, [f"{file}: $: not valid YAML: {exc}"]


def _version_problems(file: str, data: dict[str, Any]) -> list[str]:
    version = data.get("version")
    if version is None:
        return [f'{file}: version: missing; Rasa expects version: "{VERSION}"']
    if version != VERSION:
        return [f'{file}: version: {version!r}; this export writes and checks version "{VERSION}"']
    return []


def _names(items: Any) -> list[str]:
    """Names in a domain list whose items are ``name`` or ``{name: {...}}``."""
    out: list[str] = []
    for item in items or []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            out.extend(str(k) for k in item)
    return out


def _examples(item: dict[str, Any]) -> list[str]:
    examples = item.get("examples")
    if isinstance(examples, str):
        return [line.strip()[1:].strip() for line in examples.splitlines() if line.strip()]
    if isinstance(examples, list):
        return [str(e.get("text", "")) for e in examples if isinstance(e, dict)]
    return []


def _nlu_problems(file: str, data: dict[str, Any], domain: dict[str, Any] | None) -> list[str]:
    problems: list[str] = []
    intents = set(_names(domain.get("intents"))) | DEFAULT_INTENTS if domain is not None else None
    entities = set(_names(domain.get("entities"))) if domain is not None else set()
    for i, item in enumerate(data.get("nlu") or []):
        if not isinstance(item, dict) or not isinstance(item.get("intent"), str):
            continue
        if isinstance(item.get("examples"), str):
            for n, line in enumerate(item["examples"].splitlines()):
                if line.strip() and not line.lstrip().startswith("- "):
                    problems.append(
                        f"{file}: nlu[{i}].examples: line {n + 1} {line!r} does not start with '- '"
                    )
        if intents is not None and item["intent"] not in intents:
            problems.append(
                f"{file}: nlu[{i}].intent: {item['intent']!r} is not declared in {DOMAIN_FILE} (intents)"
            )
        for example in _examples(item):
            problems.extend(_markup_problems(f"{file}: nlu[{i}].examples", example, entities))
    return problems


def _markup_problems(where: str, text: str, entities: set[str]) -> list[str]:
    """Entity annotations in ``text`` for entities the domain does not declare (a failed cleaning)."""
    problems: list[str] = []
    for m in ENTITY_MARKUP.finditer(text):
        if m["entity"] is None or m["entity"] not in entities:
            problems.append(
                f"{where}: {text!r} annotates {m.group(0)!r} as entity {m['entity'] or '(entity dict)'}, "
                f"which {DOMAIN_FILE} does not declare"
            )
    return problems


def _story_steps(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(field path, step)`` of every step of every story and rule (``or`` alternatives included)."""
    for section in ("stories", "rules"):
        for s, item in enumerate(data.get(section) or []):
            if not isinstance(item, dict):
                continue
            for k, step in enumerate(item.get("steps") or []):
                if not isinstance(step, dict):
                    continue
                yield f"{section}[{s}].steps[{k}]", step
                for j, alternative in enumerate(step.get("or") or []):
                    if isinstance(alternative, dict):
                        yield f"{section}[{s}].steps[{k}].or[{j}]", alternative


def _story_problems(
    file: str, data: dict[str, Any], domain: dict[str, Any] | None, used: dict[str, str]
) -> list[str]:
    """Undeclared intents and actions; records each ``utter_`` action used (``used``: action -> where)."""
    problems: list[str] = []
    intents = set(_names(domain.get("intents"))) | DEFAULT_INTENTS if domain is not None else None
    actions = (
        set(_names(domain.get("actions"))) | set(domain.get("responses") or {}) | DEFAULT_ACTIONS
        if domain is not None
        else None
    )
    entities = set(_names(domain.get("entities"))) if domain is not None else set()
    for path, step in _story_steps(data):
        intent, action = step.get("intent"), step.get("action")
        if isinstance(step.get("user"), str):
            problems.extend(_markup_problems(f"{file}: {path}.user", step["user"].strip(), entities))
        if intents is not None and isinstance(intent, str) and intent not in intents:
            problems.append(f"{file}: {path}.intent: {intent!r} is not declared in {DOMAIN_FILE} (intents)")
        if isinstance(action, str):
            if action.startswith("utter_"):
                used.setdefault(action, f"{file} {path}")
            if actions is not None and action not in actions:
                problems.append(
                    f"{file}: {path}.action: {action!r} is not declared in {DOMAIN_FILE} (actions or responses)"
                )
    return problems


def _domain_response_problems(domain: dict[str, Any], used: dict[str, str]) -> list[str]:
    responses = domain.get("responses") or {}
    problems: list[str] = []
    listed = {a: f"{DOMAIN_FILE} actions[{i}]" for i, a in enumerate(_names(domain.get("actions")))}
    for action, where in sorted({**listed, **used}.items()):
        if action.startswith("utter_") and action not in responses:
            problems.append(f"{DOMAIN_FILE}: responses.{action}: missing; {action!r} is used in {where}")
    return problems


def validate(root: Path, files: list[str]) -> list[str]:
    """Each file against Rasa's schema for its kind (``domain.yml``; data files by their sections), its
    ``version``, and the cross-file rules: intents and actions used in stories and NLU are declared in the
    domain, every ``utter_`` action has a response, examples contain no entity markup the domain lacks."""
    problems: list[str] = []
    parsed: dict[str, dict[str, Any]] = {}
    for file in files:
        data, read_problems = _read_yaml(root, file)
        problems.extend(read_problems)
        if read_problems:
            continue
        if not isinstance(data, dict):
            problems.append(f"{file}: $: expected a YAML mapping (version, nlu/stories/rules or domain keys)")
            continue
        if Path(file).name == DOMAIN_FILE:
            kinds = ["domain"]
        else:
            kinds = [
                k
                for k, keys in (("nlu", ("nlu", "responses")), ("stories", ("stories", "rules")))
                if any(x in data for x in keys)
            ]
            if not kinds:
                problems.append(f"{file}: $: no 'nlu', 'stories' or 'rules' section; not Rasa training data")
                continue
        for kind in kinds:
            problems.extend(schema_problems(file, data, kind))
        problems.extend(_version_problems(file, data))
        parsed[file] = data

    domain_file = next((f for f in parsed if Path(f).name == DOMAIN_FILE), None)
    domain = parsed.get(domain_file) if domain_file else None
    if domain is None and (root / DOMAIN_FILE).is_file() and DOMAIN_FILE not in files:
        loaded, _ = _read_yaml(root, DOMAIN_FILE)
        domain = loaded if isinstance(loaded, dict) else None
    data_files = [f for f in parsed if f != domain_file]
    if domain is None and data_files and DOMAIN_FILE not in files:
        problems.append(
            f"{DOMAIN_FILE}: $: missing; intents and actions of {', '.join(data_files)} are unchecked"
        )
    used: dict[str, str] = {}
    for file in data_files:
        problems.extend(_nlu_problems(file, parsed[file], domain))
        problems.extend(_story_problems(file, parsed[file], domain, used))
    if domain is not None:
        problems.extend(_domain_response_problems(domain, used))
    return problems
