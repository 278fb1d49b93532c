"""The built-in domain packs, custom packs from TRANSCRIPTS_DOMAIN_DIRS, and the loader's error messages."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from transcript_foundry.contract.job_spec import TONES
from transcript_foundry.domains.domain_pack import (
    BUILTIN_DIR,
    DIALOGUE_ACTS,
    DOMAIN_DIRS_ENV,
    PHI_KINDS,
    Beat,
    DomainPack,
    DomainPackError,
    Exemplar,
    ExemplarTurn,
    Persona,
    Scenario,
    load_domain_pack_file,
    load_domain_packs,
    unknown_domain_message,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "domain-packs.md"

# The dialogue-act label set, documented in docs/domain-packs.md (a test below checks the docs).
ACTS = frozenset(DIALOGUE_ACTS)

BUILTINS = ("healthcare", "retail", "telecom")

# Scenario ids and keywords other modules (request parser, planner) rely on.
FIXED_SCENARIOS: dict[str, dict[str, set[str]]] = {
    "healthcare": {
        "appointment_scheduling": {"appointment", "schedule", "reschedule", "booking"},
        "billing_dispute": {"bill", "billing", "charge", "overcharged"},
        "prescription_refill": {"prescription", "refill", "medication", "pharmacy"},
        "coverage_question": {"coverage", "covered", "benefits", "insurance"},
        "claim_status": {"claim", "claims", "reimbursement"},
        "lab_results": {"lab", "results", "test results", "blood work"},
    },
    "retail": {
        "order_status": {"order status", "delivery", "shipping", "tracking", "where is my order"},
        "return_refund": {"return", "returns", "refund", "refunds"},
        "damaged_item": {"damaged", "broken", "defective"},
        "payment_issue": {"payment", "card declined", "double charged", "charge"},
        "product_inquiry": {"product", "stock", "availability", "size"},
        "cancel_order": {"cancel order", "cancellation", "cancel"},
    },
    "telecom": {
        "billing_dispute": {"bill", "billing", "charge", "overcharged"},
        "service_outage": {"outage", "internet down", "no signal", "service down"},
        "plan_change": {"upgrade", "plan", "downgrade", "switch plan"},
        "device_support": {"phone", "router", "device", "wifi", "technical support"},
        "cancel_service": {"cancel", "cancellation", "disconnect"},
        "international_roaming": {"roaming", "international", "travel", "abroad"},
    },
}

FIXED_CALLER_TYPES = {
    "healthcare": {"elderly", "caregiver", "new_patient", "busy_professional"},
    "retail": {"first_time", "loyal_customer", "business", "elderly"},
    "telecom": {"business", "elderly", "tech_savvy", "student"},
}

REQUIRED_DOMAIN_KEYWORDS = {
    "healthcare": {
        "healthcare",
        "health",
        "medical",
        "clinic",
        "hospital",
        "patient",
        "doctor",
        "health insurance",
    },
    "retail": {
        "retail",
        "e-commerce",
        "ecommerce",
        "online shop",
        "online store",
        "store",
        "shop",
        "shopping",
    },
    "telecom": {
        "telecom",
        "telco",
        "telecommunications",
        "mobile",
        "wireless",
        "internet provider",
        "cable",
        "phone company",
        "carrier",
    },
}

GOODBYE = re.compile(r"\b(bye|goodbye|take care|have a)\b", re.IGNORECASE)


@pytest.fixture
def builtin_packs(monkeypatch: pytest.MonkeyPatch) -> dict[str, DomainPack]:
    monkeypatch.delenv(DOMAIN_DIRS_ENV, raising=False)
    return load_domain_packs()


def _alternates(beats: list[Beat]) -> bool:
    return all(a.speaker != b.speaker for a, b in itertools.pairwise(beats))


# --------------------------------------------------------------------------------------- built-in packs


def test_builtin_packs_load(builtin_packs: dict[str, DomainPack]) -> None:
    assert sorted(builtin_packs) == list(BUILTINS)
    for name in BUILTINS:
        path = BUILTIN_DIR / f"{name}.yaml"
        assert path.is_file()
        assert load_domain_pack_file(path).name == name


@pytest.mark.parametrize("name", BUILTINS)
def test_fixed_scenarios_and_keywords(builtin_packs: dict[str, DomainPack], name: str) -> None:
    pack = builtin_packs[name]
    assert {s.id for s in pack.scenarios} == set(FIXED_SCENARIOS[name])
    for scenario_id, keywords in FIXED_SCENARIOS[name].items():
        missing = keywords - set(pack.scenario(scenario_id).keywords)
        assert not missing, f"{name}.{scenario_id} lacks keywords {sorted(missing)}"


@pytest.mark.parametrize("name", BUILTINS)
def test_fixed_caller_types(builtin_packs: dict[str, DomainPack], name: str) -> None:
    pack = builtin_packs[name]
    assert set(pack.caller_types) == FIXED_CALLER_TYPES[name]
    assert len(pack.personas) == 4
    assert len({p.id for p in pack.personas}) == 4


@pytest.mark.parametrize("name", BUILTINS)
def test_domain_keywords_present(builtin_packs: dict[str, DomainPack], name: str) -> None:
    assert REQUIRED_DOMAIN_KEYWORDS[name] <= set(builtin_packs[name].keywords)


def test_domain_keywords_are_disjoint(builtin_packs: dict[str, DomainPack]) -> None:
    for a in BUILTINS:
        for b in BUILTINS:
            if a < b:
                shared = set(builtin_packs[a].keywords) & set(builtin_packs[b].keywords)
                assert not shared, f"{a} and {b} share domain keywords {sorted(shared)}"


@pytest.mark.parametrize("name", BUILTINS)
def test_pack_vocabulary(builtin_packs: dict[str, DomainPack], name: str) -> None:
    pack = builtin_packs[name]
    assert 4 <= len(pack.companies) <= 6
    assert len(set(pack.agent_names)) >= 10
    assert len(set(pack.terms)) >= 30
    words = pack.keywords + pack.terms + [w for s in pack.scenarios for w in s.keywords + s.terms]
    assert all(w == w.lower() and w.strip() == w for w in words), "keywords and terms are lowercase"
    assert "\n" not in pack.description


@pytest.mark.parametrize("name", BUILTINS)
def test_filler_beats(builtin_packs: dict[str, DomainPack], name: str) -> None:
    beats = builtin_packs[name].filler_beats
    assert sum(b.speaker == "AGENT" for b in beats) >= 2
    # The planner pairs random CUSTOMER and AGENT fillers; long calls need several without repeats.
    assert sum(b.speaker == "CUSTOMER" for b in beats) >= 6
    assert len({b.beat for b in beats}) == len(beats)
    assert all(b.act in ACTS and not b.optional and not b.complex_only for b in beats)


@pytest.mark.parametrize("name", BUILTINS)
def test_scenario_call_plans(builtin_packs: dict[str, DomainPack], name: str) -> None:
    for s in builtin_packs[name].scenarios:
        where = f"{name}.{s.id}"
        assert 8 <= len(s.beats) <= 12, where
        assert 2 <= sum(b.optional for b in s.beats) <= 3, where
        assert 2 <= sum(b.complex_only for b in s.beats) <= 3, where
        assert not any(b.optional and b.complex_only for b in s.beats), where
        assert all(b.act in ACTS for b in s.beats), f"{where}: acts {[b.act for b in s.beats]}"
        assert s.beats[0].speaker == "AGENT" and s.beats[0].act == "greet", where
        assert any(b.act == "verify_identity" for b in s.beats), where
        assert [b.act for b in s.beats[-2:]] == ["close", "close"], where
        assert {b.speaker for b in s.beats[-2:]} == {"AGENT", "CUSTOMER"}, where
        assert s.phi_slots and len(s.terms) >= 5, where
        # Beats must not name the speaker: the prompt renders them as "(Agent <beat>)".
        assert not any(re.match(r"(agent|customer|caller)\b", b.beat, re.I) for b in s.beats), where
        # Optional and complex-only beats come in adjacent pairs, so every call length still alternates.
        for variant in (
            s.beats,
            [b for b in s.beats if not b.optional],
            [b for b in s.beats if not b.complex_only],
            [b for b in s.beats if not b.optional and not b.complex_only],
        ):
            assert _alternates(variant), f"{where}: speakers do not alternate in {[b.beat for b in variant]}"


@pytest.mark.parametrize("name", BUILTINS)
def test_exemplar_coverage(builtin_packs: dict[str, DomainPack], name: str) -> None:
    exemplars = builtin_packs[name].exemplars
    assert len(exemplars) >= 6
    assert len({e.scenario for e in exemplars}) >= 4
    assert len({e.tone for e in exemplars}) >= 5
    assert {e.tone for e in exemplars} <= set(TONES)


@pytest.mark.parametrize("name", BUILTINS)
def test_exemplars_alternate_and_start_with_agent(builtin_packs: dict[str, DomainPack], name: str) -> None:
    for i, ex in enumerate(builtin_packs[name].exemplars):
        speakers = [t.speaker for t in ex.turns]
        expected = ["AGENT" if n % 2 == 0 else "CUSTOMER" for n in range(len(speakers))]
        assert speakers == expected, f"{name} exemplars[{i}] ({ex.scenario}, {ex.tone})"
        assert 8 <= len(ex.turns) <= 14, f"{name} exemplars[{i}] has {len(ex.turns)} turns"


@pytest.mark.parametrize("name", BUILTINS)
def test_exemplar_text_quality(builtin_packs: dict[str, DomainPack], name: str) -> None:
    pack = builtin_packs[name]
    seen: set[str] = set()
    for i, ex in enumerate(pack.exemplars):
        where = f"{name} exemplars[{i}]"
        opening = ex.turns[0].text
        assert any(c in opening for c in pack.companies), f"{where}: first turn names no company"
        assert any(re.search(rf"\b{re.escape(n)}\b", opening) for n in pack.agent_names), where
        last_agent = next(t for t in reversed(ex.turns) if t.speaker == "AGENT")
        last_customer = next(t for t in reversed(ex.turns) if t.speaker == "CUSTOMER")
        assert GOODBYE.search(last_agent.text) and GOODBYE.search(last_customer.text), f"{where}: no goodbye"
        for t in ex.turns:
            assert len(t.text.split()) <= 45, f"{where}: turn too long for a phone line: {t.text!r}"
            assert not re.match(r"(agent|customer)\s*:", t.text, re.I), f"{where}: speaker name in text"
            assert not re.match(r"(agent|customer|caller)\b", t.beat, re.I), f"{where}: speaker in beat"
            assert t.text not in seen, f"{where}: repeated line {t.text!r}"
            seen.add(t.text)


@pytest.mark.parametrize("name", BUILTINS)
def test_exemplar_tone_labels_match_the_planner(builtin_packs: dict[str, DomainPack], name: str) -> None:
    # The planner leads a toned caller's problem statement with the tone ("angry, explains ..."); the
    # exemplars show the same label so the base model learns what the prefix means.
    for i, ex in enumerate(builtin_packs[name].exemplars):
        first_customer = next(t for t in ex.turns if t.speaker == "CUSTOMER")
        if ex.tone in ("neutral", "calm"):
            assert not first_customer.beat.startswith(f"{ex.tone},"), f"{name} exemplars[{i}]"
        else:
            assert first_customer.beat.startswith(f"{ex.tone}, "), (
                f"{name} exemplars[{i}]: {first_customer.beat}"
            )


@pytest.mark.parametrize("name", BUILTINS)
def test_exemplars_pass_the_quality_gate(builtin_packs: dict[str, DomainPack], name: str) -> None:
    # What the base model imitates must itself meet the gate its output is held to, including the
    # domain-term and tone-cue checks that depend on the pack's wording.
    from transcript_foundry.contract.transcript import GenerationInfo, Transcript, Turn
    from transcript_foundry.quality.gate import assess

    pack = builtin_packs[name]
    for i, ex in enumerate(pack.exemplars):
        transcript = Transcript(
            id=f"{name}-exemplar-{i}",
            request_id="exemplars",
            domain=name,
            scenario=ex.scenario,
            emotional_tone=ex.tone,
            complexity=None,
            turns=[Turn(speaker=t.speaker, text=t.text, beat=t.beat) for t in ex.turns],
            generation=GenerationInfo(node_id="hand-written", model="none", strategy="turn_by_turn"),
        )
        report = assess(transcript, pack, (8, 14), 0.85)
        where = f"{name} exemplars[{i}] ({ex.scenario}, {ex.tone}): {report.reasons}"
        assert report.passed, where
        assert report.checks["domain_terms"] == 1.0 and report.checks["tone"] == 1.0, where


# --------------------------------------------------------------------------------------- custom packs


def _minimal_pack(name: str = "insurance") -> dict[str, Any]:
    turns = [
        {"speaker": "AGENT", "beat": "greets the caller", "text": "Harborlight Insurance, this is Rosa."},
        {"speaker": "CUSTOMER", "beat": "explains the accident", "text": "Hi, someone backed into my car."},
        {
            "speaker": "AGENT",
            "beat": "asks for the policy number",
            "text": "I'm sorry. What's your policy number?",
        },
        {"speaker": "CUSTOMER", "beat": "gives the policy number", "text": "It's HL-2041. Thanks, bye."},
    ]
    return {
        "name": name,
        "description": "a car and home insurance company",
        "keywords": ["car insurance", "home insurance"],
        "companies": ["Harborlight Insurance"],
        "agent_names": ["Rosa", "Malik"],
        "personas": [
            {"id": "first_claim", "caller_type": "first_time", "description": "Files a first claim."}
        ],
        "terms": ["policy number", "deductible", "adjuster", "premium", "claim"],
        "filler_beats": [
            {"speaker": "CUSTOMER", "beat": "asks a follow-up question", "act": "ask_followup"},
            {"speaker": "AGENT", "beat": "answers the follow-up question", "act": "answer_followup"},
        ],
        "scenarios": [
            {
                "id": "file_claim",
                "title": "Filing a claim after an accident",
                "keywords": ["accident", "file a claim"],
                "phi_slots": ["person_name", "account_number"],
                "beats": [
                    {**{k: v for k, v in t.items() if k != "text"}, "act": act}
                    for t, act in zip(
                        turns, ["greet", "state_problem", "verify_identity", "provide_info"], strict=True
                    )
                ],
            }
        ],
        "exemplars": [
            {"scenario": "file_claim", "tone": "calm", "turns": turns},
            {"scenario": "file_claim", "tone": "anxious", "turns": turns},
        ],
    }


def _write(folder: Path, data: dict[str, Any], file_name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (file_name or f"{data['name']}.yaml")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_minimal_pack_is_valid(tmp_path: Path) -> None:
    pack = load_domain_pack_file(_write(tmp_path, _minimal_pack()))
    assert pack.name == "insurance"
    assert pack.scenario("file_claim").beats[0].speaker == "AGENT"


def test_custom_pack_from_env_is_loaded_next_to_builtins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "packs"
    _write(custom, _minimal_pack())
    monkeypatch.setenv(DOMAIN_DIRS_ENV, str(custom))
    packs = load_domain_packs()
    assert sorted(packs) == sorted([*BUILTINS, "insurance"])
    assert packs["insurance"].companies == ["Harborlight Insurance"]


def test_env_holds_several_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "a", _minimal_pack("insurance"))
    _write(tmp_path / "b", _minimal_pack("banking"))
    monkeypatch.setenv(DOMAIN_DIRS_ENV, os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    assert {"insurance", "banking"} <= set(load_domain_packs())


def test_extra_dirs_like_domains_dir_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DOMAIN_DIRS_ENV, raising=False)
    _write(tmp_path, _minimal_pack())
    assert "insurance" in load_domain_packs(extra_dirs=[tmp_path])


def test_custom_pack_replaces_builtin_of_same_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, _minimal_pack("retail"))
    monkeypatch.setenv(DOMAIN_DIRS_ENV, str(tmp_path))
    packs = load_domain_packs()
    assert packs["retail"].companies == ["Harborlight Insurance"]
    assert sorted(packs) == list(BUILTINS)


def test_builtin_pack_copied_into_custom_folder_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = yaml.safe_load((BUILTIN_DIR / "telecom.yaml").read_text(encoding="utf-8"))
    data["name"] = "telecom_uk"
    _write(tmp_path, data)
    monkeypatch.setenv(DOMAIN_DIRS_ENV, str(tmp_path))
    packs = load_domain_packs()
    assert packs["telecom_uk"].scenario("international_roaming").title
    assert "telecom" in packs


def test_unknown_domain_message_points_at_docs(builtin_packs: dict[str, DomainPack]) -> None:
    msg = unknown_domain_message("banking", builtin_packs)
    assert "'banking'" in msg and "healthcare, retail, telecom" in msg
    assert "docs/domain-packs.md" in msg and DOMAIN_DIRS_ENV in msg


# --------------------------------------------------------------------------------------- error messages


def _error_for(tmp_path: Path, data: dict[str, Any], file_name: str | None = None) -> str:
    path = _write(tmp_path, data, file_name)
    with pytest.raises(DomainPackError) as info:
        load_domain_pack_file(path)
    return str(info.value)


def test_error_missing_required_field(tmp_path: Path) -> None:
    data = _minimal_pack()
    del data["description"]
    msg = _error_for(tmp_path, data)
    assert "insurance.yaml" in msg
    assert "description: field required" in msg
    assert "docs/domain-packs.md" in msg


def test_error_missing_nested_field(tmp_path: Path) -> None:
    data = _minimal_pack()
    del data["scenarios"][0]["title"]
    msg = _error_for(tmp_path, data)
    assert "insurance.yaml" in msg and "scenarios.0.title: field required" in msg


def test_error_misspelled_field(tmp_path: Path) -> None:
    data = _minimal_pack()
    data["agent_name"] = data.pop("agent_names")
    msg = _error_for(tmp_path, data)
    assert "insurance.yaml" in msg
    assert "agent_name: unknown field: remove it or fix its spelling" in msg
    assert "agent_names: field required" in msg


def test_error_misspelled_beat_field(tmp_path: Path) -> None:
    data = _minimal_pack()
    data["scenarios"][0]["beats"][1]["optinal"] = True
    msg = _error_for(tmp_path, data)
    assert "scenarios.0.beats.1.optinal: unknown field" in msg and "fix its spelling" in msg


def test_error_unknown_phi_kind(tmp_path: Path) -> None:
    data = _minimal_pack()
    data["scenarios"][0]["phi_slots"] = ["person_name", "policy_number"]
    msg = _error_for(tmp_path, data)
    assert "insurance.yaml" in msg
    assert "scenarios.0.phi_slots" in msg
    assert "'policy_number'" in msg
    assert "use any of: " + ", ".join(PHI_KINDS) in msg


def test_error_exemplar_unknown_scenario(tmp_path: Path) -> None:
    data = _minimal_pack()
    data["exemplars"][1]["scenario"] = "flie_claim"
    msg = _error_for(tmp_path, data)
    assert "insurance.yaml" in msg
    assert "exemplars[1].scenario" in msg
    assert "'flie_claim' is not a scenario id" in msg and "known: file_claim" in msg


def test_error_name_does_not_match_file(tmp_path: Path) -> None:
    msg = _error_for(tmp_path, _minimal_pack("insurance"), "insurence.yaml")
    assert "insurence.yaml" in msg
    assert "name: 'insurance' must match the file name" in msg
    assert "rename the file to insurance.yaml or set name: insurence" in msg


def test_error_first_beat_not_agent(tmp_path: Path) -> None:
    data = _minimal_pack()
    beats = data["scenarios"][0]["beats"]
    beats[0], beats[1] = beats[1], beats[0]
    msg = _error_for(tmp_path, data)
    assert "insurance.yaml" in msg and "scenarios.0" in msg and "first beat must be the AGENT" in msg


def test_error_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "insurance.yaml"
    text = yaml.safe_dump(_minimal_pack(), sort_keys=False)
    path.write_text(text + "extra_terms: [policy number, deductible\n", encoding="utf-8")
    with pytest.raises(DomainPackError) as info:
        load_domain_pack_file(path)
    msg = str(info.value)
    assert "insurance.yaml" in msg and "is not valid YAML" in msg
    assert re.search(r"line \d+, column \d+", msg), msg


def test_error_yaml_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "insurance.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(DomainPackError, match=r"insurance\.yaml must be a YAML mapping with a 'name' field"):
        load_domain_pack_file(path)


def test_error_nonexistent_configured_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv(DOMAIN_DIRS_ENV, str(missing))
    with pytest.raises(DomainPackError) as info:
        load_domain_packs()
    msg = str(info.value)
    assert str(missing) in msg and "does not exist" in msg
    assert DOMAIN_DIRS_ENV in msg and "--domains-dir" in msg


def test_error_in_custom_folder_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _minimal_pack()
    data["personas"][0]["caller_type"] = "First Time"
    _write(tmp_path, data)
    monkeypatch.setenv(DOMAIN_DIRS_ENV, str(tmp_path))
    with pytest.raises(DomainPackError) as info:
        load_domain_packs()
    msg = str(info.value)
    assert str(tmp_path / "insurance.yaml") in msg
    assert "personas.0.caller_type" in msg and "lower_snake_case" in msg


# --------------------------------------------------------------------------------------- docs


def test_docs_cover_every_field_act_and_phi_kind() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for model in (DomainPack, Persona, Scenario, Beat, Exemplar, ExemplarTurn):
        for field in model.model_fields:
            assert f"`{field}`" in text, f"docs/domain-packs.md does not document {model.__name__}.{field}"
    for act in ACTS:
        assert f"`{act}`" in text, f"docs/domain-packs.md does not document the act {act!r}"
    for kind in PHI_KINDS:
        assert f"`{kind}`" in text, f"docs/domain-packs.md does not list the PHI kind {kind!r}"
    assert DOMAIN_DIRS_ENV in text and "--domains-dir" in text


def test_docs_example_pack_is_valid(tmp_path: Path) -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert example, "docs/domain-packs.md has no yaml example"
    path = tmp_path / "insurance.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    pack = load_domain_pack_file(path)
    assert all(b.act in ACTS for s in pack.scenarios for b in s.beats)


def test_error_unknown_dialogue_act(tmp_path: Path) -> None:
    data = _minimal_pack()
    data["scenarios"][0]["beats"][2]["act"] = "verfy_identity"
    msg = _error_for(tmp_path, data)
    assert "insurance.yaml" in msg
    assert (
        "scenarios.0.beats.2.act: unknown dialogue act 'verfy_identity'" in msg and "verify_identity" in msg
    )


def test_error_missing_dialogue_act(tmp_path: Path) -> None:
    data = _minimal_pack()
    del data["scenarios"][0]["beats"][0]["act"]
    msg = _error_for(tmp_path, data)
    assert "scenarios.0.beats.0.act: field required" in msg


def test_error_exemplar_tone_and_alternation(tmp_path: Path) -> None:
    data = _minimal_pack()
    data["exemplars"][0]["tone"] = "grumpy"
    data["exemplars"][1]["turns"] = [data["exemplars"][1]["turns"][0], *data["exemplars"][1]["turns"]]
    msg = _error_for(tmp_path, data)
    assert "exemplars.0.tone: unknown tone 'grumpy'" in msg
    assert "exemplars.1.turns" in msg or "turns[1]: speakers must alternate" in msg
