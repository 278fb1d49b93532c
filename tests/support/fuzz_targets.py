"""Fuzz targets for every reader of hand-typed input (issue 17 item 1), shared by the suite
(tests/fuzz/, a few hundred derandomized examples per target) and the long run (bench/fuzz_long.py,
10,000+ per target).

Each target is a hypothesis strategy of inputs and a check that feeds one input to the real reader and
asserts the properties: the reader returns, or raises its own error type (never anything else), and the
error names where the problem is (the file, line or field) in its first line. Strategies mix valid
input, near-valid input (one field wrong, a typo, a value out of range) and garbage, so every branch of a
reader is reached, not only its first refusal.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.contract.lenient_transcripts import (
    OPTIONAL_TEXT_FIELDS,
    SPEAKER_ALIASES,
    TranscriptFileError,
    TranscriptRecordError,
    read_transcript_record,
    read_transcripts,
    with_contract_defaults,
)
from transcript_foundry.domains.domain_pack import DomainPack, load_domain_packs
from transcript_foundry.formats.custom_mapping.model import parse_mapping
from transcript_foundry.formats.custom_mapping.render import render as render_mapping
from transcript_foundry.formats.custom_mapping.templates import MappingError
from transcript_foundry.formats.export_formats import export_format
from transcript_foundry.pool.node_spec import NodeConfigError, NodeSpec, load_nodes_file
from transcript_foundry.request.parser import RequestError, load_job_spec_file, parse_request
from transcript_foundry.settings.model import known_keys
from transcript_foundry.settings.store import SettingsError, SettingsStore


@dataclass(frozen=True)
class FuzzTarget:
    name: str
    inputs: st.SearchStrategy[Any]
    check: Callable[[Any], None]


@cache
def packs() -> dict[str, DomainPack]:
    return load_domain_packs()


@cache
def _scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="tf-fuzz-"))


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else ""


# --- shared strategies ------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
_json_values = st.recursive(
    _scalars.filter(lambda v: not (isinstance(v, float) and v != v)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _near(valid: st.SearchStrategy[dict[str, Any]], names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Valid dicts, and the same with one field dropped, retyped, or renamed by a typo."""

    @st.composite
    def mutated(draw: st.DrawFn) -> dict[str, Any]:
        data = dict(draw(valid))
        how = draw(st.sampled_from(["keep", "drop", "retype", "typo", "extra"]))
        key = draw(st.sampled_from(sorted(data) or names))
        if how == "drop":
            data.pop(key, None)
        elif how == "retype":
            data[key] = draw(_json_values)
        elif how == "typo" and key in data:
            data[key[:-1] + draw(st.sampled_from("xzq_"))] = data.pop(key)
        elif how == "extra":
            data[draw(st.text(min_size=1, max_size=10))] = draw(_json_values)
        return data

    return mutated()


def _as_file_text(data: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, bytes]]:
    """(suffix, file bytes): the data as YAML or JSON, text cut short, or arbitrary bytes."""

    @st.composite
    def files(draw: st.DrawFn) -> tuple[str, bytes]:
        value = draw(data)
        suffix = draw(st.sampled_from([".yaml", ".yml", ".json"]))
        try:
            text = json.dumps(value) if suffix == ".json" else yaml.safe_dump(value, allow_unicode=True)
        except (TypeError, ValueError, yaml.YAMLError):
            text = str(value)
        raw = text.encode("utf-8")
        how = draw(st.sampled_from(["whole", "whole", "whole", "cut", "bytes", "garbage"]))
        if how == "cut":
            raw = raw[: draw(st.integers(0, len(raw)))]
        elif how == "bytes":
            raw = draw(st.binary(max_size=200))
        elif how == "garbage":
            raw = draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
        return suffix, raw

    return files()


def _write(name: str, suffix: str, raw: bytes) -> Path:
    path = _scratch() / f"{name}{suffix}"
    path.write_bytes(raw)
    return path


# --- the request parser -----------------------------------------------------------------------------

_REQUEST_WORDS = [
    "Generate", "make", "create", "transcripts", "calls", "conversations", "healthcare", "retail", "telecom",
    "frustrated", "angry", "calm", "confused", "callers", "simple", "complex", "short", "long", "about",
    "billing", "refund", "claim", "with", "and", "not", "no", "between", "to", "turns", "exchanges", "seed",
    "quality", "at least", "%", "0.9", "in", "Spanish", "French", "rasa", "contact lens", "ccai", "a few",
    "dozen", "hundred", "thousand", "million", "-3", "0", "1", "20", "500", "10001", "1e9", "two", "twenty",
]  # fmt: skip
_requests = st.one_of(
    st.lists(st.sampled_from(_REQUEST_WORDS) | st.text(max_size=6), max_size=14).map(" ".join),
    st.text(max_size=200),
)


def check_request(text: str) -> None:
    try:
        spec = parse_request(text, packs(), semantic=False)
    except RequestError as exc:
        assert _first_line(exc).strip(), f"an empty refusal for {text!r}"
        return
    assert spec.domain in packs() and spec.count >= 1


# --- JobSpec files ----------------------------------------------------------------------------------

_TONES = ["neutral", "frustrated", "angry", "confused", "anxious", "satisfied", "impatient", "calm"]
_job_specs = st.fixed_dictionaries(
    {"count": st.integers(1, 500), "domain": st.sampled_from(["healthcare", "retail", "telecom"])},
    optional={
        "emotional_tone": st.sampled_from([*_TONES, None]),
        "complexity": st.sampled_from(["simple", "complex", None]),
        "exchanges": st.tuples(st.integers(2, 30), st.integers(2, 60)).map(lambda t: sorted(t)),
        "formats": st.lists(st.sampled_from(["contact_lens", "ccai", "rasa", "custom_json"]), max_size=3),
        "quality_threshold": st.floats(0, 1),
        "seed": st.integers(0, 2**31) | st.none(),
        "language": st.sampled_from(["en", "en-US", "es", "xx-"]),
    },
)


def check_job_spec_file(file: tuple[str, bytes]) -> None:
    suffix, raw = file
    path = _write("spec", suffix, raw)
    try:
        spec = load_job_spec_file(path, packs())
    except RequestError as exc:
        assert _first_line(exc).startswith(f"{path}: "), f"the error does not name the file: {exc}"
        return
    again = _write("spec-again", ".yaml", yaml.safe_dump(spec.model_dump(mode="json")).encode())
    assert load_job_spec_file(again, packs()) == spec, "JobSpec -> YAML -> JobSpec changed it"


def check_job_spec_round_trip(data: dict[str, Any]) -> None:
    """A valid JobSpec written as YAML and as JSON reads back equal."""
    try:
        spec = JobSpec.model_validate(data)
    except ValueError:
        return
    for suffix, dump in ((".yaml", yaml.safe_dump), (".json", json.dumps)):
        path = _write("round", suffix, dump(spec.model_dump(mode="json")).encode())
        try:
            assert load_job_spec_file(path, packs()) == spec
        except RequestError as exc:  # a pack rule (a scenario the domain lacks): must say the file
            assert _first_line(exc).startswith(f"{path}: "), exc


# --- nodes.yaml -------------------------------------------------------------------------------------

_node = st.fixed_dictionaries(
    {
        "id": st.text(min_size=1, max_size=12),
        "backend": st.sampled_from(["openai_compatible", "llama_cpp", "vllm"]),
        "model": st.text(min_size=1, max_size=12),
    },
    optional={
        "url": st.sampled_from(["http://127.0.0.1:8080/v1", "https://gpu-1:443/v1", "nope", ""]),
        "context_window": st.integers(-5, 200_000),
        "min_concurrency": st.integers(-1, 10),
        "max_concurrency": st.integers(-1, 10),
        "prompt_style": st.sampled_from(["auto", "completion", "chat_json", "poem"]),
        "api_key_env": st.text(max_size=10),
        "timeout_s": st.floats(-1, 1000),
    },
)
_nodes_files = st.one_of(
    st.fixed_dictionaries({"nodes": st.lists(_near(_node, list(NodeSpec.model_fields)), max_size=3)}),
    _json_values,
)


def check_nodes_file(file: tuple[str, bytes]) -> None:
    suffix, raw = file
    path = _write("nodes", suffix, raw)
    try:
        nodes = load_nodes_file(path)
    except NodeConfigError as exc:
        assert str(path) in _first_line(exc), f"the error does not name the file: {exc}"
        return
    assert nodes and len({n.id for n in nodes}) == len(nodes)


# --- settings values (`config set`) ----------------------------------------------------------------

_settings_values = st.tuples(
    st.tuples(
        st.sampled_from(["", "profiles.gpu-box.", "profiles..", "nope."]),
        st.sampled_from(sorted(known_keys())),
    ).map("".join),
    st.one_of(
        st.text(max_size=20),
        st.integers(-(10**6), 10**6).map(str),
        st.floats(allow_nan=True).map(str),
        st.sampled_from(["true", "false", "yes", "0", "1", "", "null", "[]", "{}", "08:00-17:00", "25:99-1"]),
    ),
)


@cache
def _settings_store() -> SettingsStore:
    from sqlalchemy import create_engine

    from transcript_foundry.settings.secret_box import SecretBox
    from transcript_foundry.state.state_db import settings_table

    engine = create_engine("sqlite://")
    settings_table.metadata.create_all(engine)
    from cryptography.fernet import Fernet

    box = SecretBox(Fernet.generate_key(), "fuzz")
    empty = _scratch() / "settings.yaml"
    empty.write_text("{}\n", encoding="utf-8")
    return SettingsStore(engine, environ={}, config_file=empty, secret_box=box)


def check_settings_value(item: tuple[str, str]) -> None:
    """What `config set KEY VALUE` does: stored when good, else a SettingsError naming the key."""
    key, raw = item
    store = _settings_store()
    try:
        store.set(key, raw)
    except SettingsError as exc:
        field = key.split(".")[-1]
        assert field in str(exc), f"the error does not name {field}: {key}={raw!r}: {exc}"
        return
    finally:
        store.unset(key)


# --- the custom-mapping language --------------------------------------------------------------------

_PATHS = [
    "$id",
    "$domain",
    "$turns",
    "$speaker",
    "$text",
    "$quality.overall",
    "$nope",
    "$",
    "$$id",
    "$turns.0",
]
_leaf = st.one_of(
    st.sampled_from(_PATHS),
    st.sampled_from(["{id}", "{agent_name} at {company}", "{nope}", "{", "}", "{{id}}", "plain"]),
    _scalars,
)
_templates = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.dictionaries(
            st.sampled_from(["a", "b", "messages", "$each", "item", "prepend", "append"]), inner, max_size=4
        ),
        st.lists(inner, max_size=3),
        st.fixed_dictionaries({"$each": st.sampled_from(["turns", "nope", "$turns", ""]), "item": inner}),
    ),
    max_leaves=10,
)
_mappings = st.one_of(
    _near(
        st.fixed_dictionaries(
            {
                "record": st.dictionaries(
                    st.sampled_from(["id", "text", "messages", "meta"]), _templates, max_size=3
                )
            },
            optional={
                "layout": st.sampled_from(["jsonl", "json_array", "file_per_record", "csv"]),
                "file_name": st.sampled_from(
                    ["{request_id}.jsonl", "{id}.json", "out", "{nope}.json", "../x.json"]
                ),
                "speakers": st.fixed_dictionaries(
                    {}, optional={"AGENT": st.text(max_size=6), "CUSTOMER": _scalars}
                ),
                "omit_null": st.booleans(),
                "description": st.text(max_size=10),
                "json_schema": st.sampled_from([None, {"type": "object"}, {"type": 5}, "missing.json"]),
            },
        ),
        ["record", "layout", "file_name"],
    ),
    _json_values,
)


def check_mapping(data: Any) -> None:
    try:
        mapping = parse_mapping(data, source="fuzz.yaml", base_dir=_scratch())
    except MappingError as exc:
        assert _first_line(exc).startswith("fuzz.yaml: "), f"the error does not name the file: {exc}"
        return
    try:
        render_mapping([with_contract_defaults(_SAMPLE)], mapping)
    except MappingError as exc:
        assert "fuzz.yaml" in str(exc) or _first_line(exc), exc


_SAMPLE: dict[str, Any] = {
    "id": "fuzz-1",
    "domain": "retail",
    "turns": [{"speaker": "AGENT", "text": "Hello, Northwind."}, {"speaker": "CUSTOMER", "text": "Hi."}],
}


# --- readers of output-contract files (export, dedup, scrub, score) ---------------------------------

_turn = st.fixed_dictionaries(
    {
        "speaker": st.sampled_from(["AGENT", "CUSTOMER", *SPEAKER_ALIASES, "BOT", "", " agent "]) | _scalars,
        "text": st.text(max_size=60) | _scalars,
    },
    optional={
        "act": st.sampled_from(["greet", "state_problem", "offer_solution", "close", None]),
        "beat": _scalars,
    },
)
_record = st.fixed_dictionaries(
    {"id": st.text(max_size=10) | st.integers() | _scalars, "turns": st.lists(_turn, max_size=5)},
    optional={
        **{
            k: st.sampled_from(["retail", "healthcare", "frustrated", "simple", "x"]) | _scalars
            for k in OPTIONAL_TEXT_FIELDS
        },
        "phi": st.lists(
            st.fixed_dictionaries(
                {
                    "turn": st.integers(-1, 5),
                    "start": st.integers(-1, 40),
                    "end": st.integers(-1, 60),
                    "kind": st.sampled_from(["person_name", "member_id"]),
                }
            ),
            max_size=2,
        )
        | _scalars,
    },
)
_records = st.one_of(_near(_record, ["id", "turns"]), _json_values)
EXPORTS = [
    ("contact_lens", None),
    ("ccai", None),
    ("rasa", None),
    ("custom", None),
    ("custom", "openai_chat"),
]


def check_transcript_record(record: Any) -> None:
    """The lenient reader refuses with its own error naming the field; what it accepts every exporter
    renders without an exception, and every problem its validator finds names the file written. (A
    format may refuse a call the reader takes: openai_chat's schema wants an assistant message, so a
    call with only CUSTOMER turns fails that export's validation, which is how `export` reports it.)"""
    try:
        read = read_transcript_record(record)
    except TranscriptRecordError as exc:
        field = _first_line(exc).split(":", 1)[0]
        assert field and " " not in field, f"the error does not start with the field: {exc}"
        return
    target = _scratch() / "export"
    for fmt, mapping in EXPORTS:
        exporter = export_format(fmt, mapping)
        files = exporter.render([with_contract_defaults(read)])
        for f in files:
            f.write(target)
        names = [f.relative_path for f in files]
        problems = exporter.validate(target, names)
        assert all(p.split(": ", 1)[0] in names for p in problems), f"{fmt}: {problems[:3]} for {read!r}"
        if {t["speaker"] for t in read["turns"]} == {"AGENT", "CUSTOMER"}:
            assert problems == [], f"{fmt}: {problems[:3]} for {read!r}"


_transcript_files = st.lists(
    st.one_of(_records.map(json.dumps), st.text(max_size=40), st.just("")), max_size=4
).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass"))


def check_transcripts_file(raw: bytes) -> None:
    path = _write("transcripts", ".jsonl", raw)
    try:
        records = read_transcripts(path)
    except TranscriptFileError as exc:
        assert str(path) in str(exc), f"the error does not name the file: {exc}"
        return
    assert records and all(isinstance(r["id"], str) for r in records)


TARGETS: dict[str, FuzzTarget] = {
    t.name: t
    for t in (
        FuzzTarget("request_text", _requests, check_request),
        FuzzTarget(
            "job_spec_file", _as_file_text(_near(_job_specs, list(JobSpec.model_fields))), check_job_spec_file
        ),
        FuzzTarget("job_spec_round_trip", _job_specs, check_job_spec_round_trip),
        FuzzTarget("nodes_file", _as_file_text(_nodes_files), check_nodes_file),
        FuzzTarget("settings_value", _settings_values, check_settings_value),
        FuzzTarget("custom_mapping", _mappings, check_mapping),
        FuzzTarget("transcript_record", _records, check_transcript_record),
        FuzzTarget("transcripts_file", _transcript_files, check_transcripts_file),
    )
}


def run_target(target: FuzzTarget, examples: int, *, seed: int | None = None) -> int:
    """Run ``target`` on ``examples`` inputs (derandomized unless ``seed`` is given); returns how many
    inputs the check saw. A failing input raises hypothesis's shrunk reproduction."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as fixed_seed

    seen = [0]

    def counted(value: Any) -> None:
        seen[0] += 1
        target.check(value)

    test = settings(
        max_examples=examples,
        derandomize=seed is None,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )(given(target.inputs)(counted))
    if seed is not None:
        test = fixed_seed(seed)(test)
    test()
    return seen[0]
