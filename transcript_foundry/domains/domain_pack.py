"""Domain packs: YAML data files that describe one business domain.

A pack names the scenarios callers phone about, the personas who call, the companies and agents who
answer, the PHI/PII slot kinds each scenario involves, the domain vocabulary and a few hand-written
exemplar transcripts. Built-in packs live in ``transcript_foundry/domains/``; a user adds a domain by
dropping ``<name>.yaml`` into a folder named by ``TRANSCRIPTS_DOMAIN_DIRS`` (or ``--domains-dir``).
The format is documented in docs/domain-packs.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from transcript_foundry.contract.job_spec import TONES
from transcript_foundry.contract.validation_errors import validation_problems

BUILTIN_DIR = Path(__file__).parent
DOMAIN_DIRS_ENV = "TRANSCRIPTS_DOMAIN_DIRS"

Speaker = Literal["AGENT", "CUSTOMER"]

PHI_KINDS: tuple[str, ...] = (
    "person_name",
    "date_of_birth",
    "date",
    "phone_number",
    "email_address",
    "street_address",
    "zip_code",
    "member_id",
    "medical_record_number",
    "account_number",
    "order_number",
    "card_number",
    "ssn",
    "ip_address",
    "url",
    "device_serial",
    "licence_plate",
    "age",
)

DIALOGUE_ACTS: tuple[str, ...] = (
    "greet",
    "state_problem",
    "request_info",
    "provide_info",
    "verify_identity",
    "confirm",
    "explain",
    "offer_solution",
    "accept_solution",
    "reject_solution",
    "express_emotion",
    "escalate",
    "apologize",
    "ask_followup",
    "answer_followup",
    "thank",
    "close",
)

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class DomainPackError(ValueError):
    """A domain pack file is missing, unreadable or invalid. The message names the file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Beat(_Strict):
    """One step of a scenario's call plan: who speaks and what the turn does."""

    speaker: Speaker
    beat: str = Field(min_length=3, description="What this turn does, e.g. 'asks for the member ID'.")
    act: str = Field(description="Dialogue-act label of the turn, one of DIALOGUE_ACTS (see docs).")
    optional: bool = Field(default=False, description="May be left out of short calls.")
    complex_only: bool = Field(
        default=False, description="Only in complex calls (escalations, extra issues)."
    )

    @field_validator("act")
    @classmethod
    def _known_act(cls, value: str) -> str:
        if value not in DIALOGUE_ACTS:
            raise ValueError(f"unknown dialogue act {value!r}; use one of: {', '.join(DIALOGUE_ACTS)}")
        return value


class Persona(_Strict):
    id: str
    caller_type: str = Field(description="Type name a request can ask for, e.g. 'elderly', 'business'.")
    description: str = Field(min_length=3)
    synonyms: list[str] = Field(
        default_factory=list,
        description="Other ways a request names these callers ('grandparents'); matched by meaning.",
    )

    @field_validator("id", "caller_type")
    @classmethod
    def _snake(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"{value!r} must be lower_snake_case (letters, digits, underscores)")
        return value


class Scenario(_Strict):
    id: str
    title: str = Field(min_length=3)
    keywords: list[str] = Field(min_length=1, description="Words in a request that select this scenario.")
    synonyms: list[str] = Field(
        default_factory=list,
        description="Paraphrases of the scenario ('card got swallowed by the ATM'); matched by meaning.",
    )
    phi_slots: list[str] = Field(default_factory=list, description=f"PHI/PII kinds: {', '.join(PHI_KINDS)}")
    terms: list[str] = Field(default_factory=list, description="Extra domain vocabulary for this scenario.")
    beats: list[Beat] = Field(min_length=4)

    @field_validator("id")
    @classmethod
    def _snake(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"{value!r} must be lower_snake_case (letters, digits, underscores)")
        return value

    @field_validator("phi_slots")
    @classmethod
    def _known_phi(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in PHI_KINDS]
        if unknown:
            raise ValueError(f"unknown PHI/PII kind(s) {unknown}; use any of: {', '.join(PHI_KINDS)}")
        return value

    @model_validator(mode="after")
    def _plan_shape(self) -> Scenario:
        if self.beats[0].speaker != "AGENT":
            raise ValueError("beats: the first beat must be the AGENT's greeting")
        if not any(b.speaker == "CUSTOMER" for b in self.beats):
            raise ValueError("beats: at least one CUSTOMER beat is needed")
        return self


class ExemplarTurn(_Strict):
    speaker: Speaker
    beat: str = Field(min_length=3)
    text: str = Field(min_length=1)


class Exemplar(_Strict):
    """A hand-written transcript shown to base models as a few-shot example."""

    scenario: str
    tone: str
    turns: list[ExemplarTurn] = Field(min_length=4)

    @field_validator("tone")
    @classmethod
    def _known_tone(cls, value: str) -> str:
        if value not in TONES:
            raise ValueError(f"unknown tone {value!r}; use one of: {', '.join(TONES)}")
        return value

    @model_validator(mode="after")
    def _alternating(self) -> Exemplar:
        if self.turns[0].speaker != "AGENT":
            raise ValueError("turns: an exemplar starts with the AGENT's greeting")
        for i, (a, b) in enumerate(zip(self.turns, self.turns[1:], strict=False)):
            if a.speaker == b.speaker:
                raise ValueError(f"turns[{i + 1}]: speakers must alternate (two {a.speaker} turns in a row)")
        return self


class DomainPack(_Strict):
    name: str
    description: str = Field(min_length=3, description="One line used in prompts.")
    keywords: list[str] = Field(min_length=1, description="Words in a request that select this domain.")
    synonyms: list[str] = Field(
        default_factory=list,
        description="Other names of the domain ('ISP', 'neobank'); matched by meaning, not spelling.",
    )
    example_requests: list[str] = Field(
        default_factory=list,
        description="Requests a user might write for this domain; matched by meaning.",
    )
    companies: list[str] = Field(min_length=1)
    agent_names: list[str] = Field(min_length=1)
    personas: list[Persona] = Field(min_length=1)
    terms: list[str] = Field(min_length=5, description="Domain vocabulary the quality gate looks for.")
    filler_beats: list[Beat] = Field(
        min_length=2, description="Generic beats used to lengthen a call (follow-up question and answer)."
    )
    scenarios: list[Scenario] = Field(min_length=1)
    exemplars: list[Exemplar] = Field(min_length=2)

    @field_validator("name")
    @classmethod
    def _snake(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"{value!r} must be lower_snake_case (letters, digits, underscores)")
        return value

    @model_validator(mode="after")
    def _cross_refs(self) -> DomainPack:
        ids = [s.id for s in self.scenarios]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"scenarios: duplicate scenario id(s) {dupes}")
        for i, ex in enumerate(self.exemplars):
            if ex.scenario not in ids:
                raise ValueError(
                    f"exemplars[{i}].scenario: {ex.scenario!r} is not a scenario id of this pack "
                    f"(known: {', '.join(ids)})"
                )
        filler_speakers = {b.speaker for b in self.filler_beats}
        if filler_speakers != {"AGENT", "CUSTOMER"}:
            raise ValueError("filler_beats: need at least one AGENT and one CUSTOMER beat")
        return self

    def scenario(self, scenario_id: str) -> Scenario:
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        raise KeyError(f"domain {self.name!r} has no scenario {scenario_id!r}")

    @property
    def caller_types(self) -> list[str]:
        return sorted({p.caller_type for p in self.personas})


def _format_validation_error(path: Path, err: ValidationError) -> str:
    lines = [f"invalid domain pack {path}:"]
    hint = "see docs/domain-packs.md"
    for loc, msg in validation_problems(err, missing_hint=hint, unknown_hint=lambda _: hint):
        lines.append(f"  {loc}: {msg}" if loc else f"  {msg}")  # a cross-field rule names its field itself
    return "\n".join(lines)


def load_domain_pack_file(path: Path) -> DomainPack:
    """Read and validate one pack; the file stem must equal the pack's ``name``."""
    try:
        # The C loader when libyaml is there: packs are re-read by every run, the pure-Python one is slow.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except OSError as exc:
        raise DomainPackError(f"cannot read domain pack {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise DomainPackError(f"domain pack {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DomainPackError(f"domain pack {path} must be a YAML mapping with a 'name' field at the top")
    try:
        pack = DomainPack.model_validate(data)
    except ValidationError as exc:
        raise DomainPackError(_format_validation_error(path, exc)) from None
    if pack.name != path.stem:
        raise DomainPackError(
            f"invalid domain pack {path}:\n  name: {pack.name!r} must match the file name "
            f"(rename the file to {pack.name}.yaml or set name: {path.stem})"
        )
    return pack


def configured_domain_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    dirs = [BUILTIN_DIR]
    env = os.environ.get(DOMAIN_DIRS_ENV, "")
    dirs.extend(Path(p) for p in env.split(os.pathsep) if p.strip())
    dirs.extend(Path(p) for p in extra)
    return dirs


def load_domain_packs(extra_dirs: Iterable[Path] = ()) -> dict[str, DomainPack]:
    """All packs from the built-in folder, ``TRANSCRIPTS_DOMAIN_DIRS`` and ``extra_dirs``.

    A later folder's pack replaces a built-in of the same name. A configured folder that does not exist
    is an error (a typo must not silently fall back to the built-ins).
    """
    packs: dict[str, DomainPack] = {}
    for folder in configured_domain_dirs(extra_dirs):
        if not folder.is_dir():
            raise DomainPackError(
                f"domain folder {folder} does not exist (set {DOMAIN_DIRS_ENV} or --domains-dir to a folder "
                "holding <name>.yaml domain packs)"
            )
        for path in sorted(folder.glob("*.y*ml")):
            pack = load_domain_pack_file(path)
            packs[pack.name] = pack
    return packs


def unknown_domain_message(name: str, packs: dict[str, DomainPack]) -> str:
    return (
        f"unknown domain {name!r}: known domains are {', '.join(sorted(packs))}. "
        f"To add one, write a domain pack <name>.yaml (format: docs/domain-packs.md) into a folder and "
        f"point {DOMAIN_DIRS_ENV} (or --domains-dir) at it."
    )
