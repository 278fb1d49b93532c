"""Plain-English requests -> JobSpec, job spec files, and the refusals' messages.

Everything runs against the real built-in domain packs (``load_domain_packs()``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from transcript_foundry.contract.job_spec import DEFAULT_EXCHANGES, KNOWN_FORMATS, MAX_COUNT, JobSpec
from transcript_foundry.domains.domain_pack import (
    DOMAIN_DIRS_ENV,
    DomainPack,
    load_domain_packs,
    unknown_domain_message,
)
from transcript_foundry.request.parser import (
    EXAMPLE,
    RequestError,
    load_job_spec_file,
    parse_request,
    resolve_request,
    validate_against_packs,
)

Packs = dict[str, DomainPack]


@pytest.fixture(scope="module")
def packs() -> Packs:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(DOMAIN_DIRS_ENV, raising=False)
        return load_domain_packs()


def spec(count: int, domain: str, **fields: Any) -> dict[str, Any]:
    """The full expected model_dump(): JobSpec's documented defaults plus the fields given."""
    expected: dict[str, Any] = {
        "count": count,
        "domain": domain,
        "emotional_tone": None,
        "complexity": None,
        "caller_type": None,
        "scenarios": [],
        "exchanges": None,
        "formats": ["custom_json"],
        "language": "en",
        "quality_threshold": 0.85,
        "seed": None,
    }
    expected.update(fields)
    if expected["exchanges"] is None:
        expected["exchanges"] = DEFAULT_EXCHANGES[expected["complexity"]]
    return expected


def case(request_text: str, count: int, domain: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    return request_text, spec(count, domain, **fields)


CASES: list[tuple[str, dict[str, Any]]] = [
    # --- counts written every way people write them
    case(
        "Generate 500 healthcare transcripts with frustrated callers",
        500,
        "healthcare",
        emotional_tone="frustrated",
    ),
    case("Create 1,500 telco calls", 1500, "telecom"),
    case("Generate 1 500 retail calls", 1500, "retail"),
    case("Generate 1_000 telecom calls about roaming", 1000, "telecom", scenarios=["international_roaming"]),
    case("Generate 2k retail conversations about returns", 2000, "retail", scenarios=["return_refund"]),
    case("Generate 2.5k hospital transcripts", 2500, "healthcare"),
    case("Make 10K clinic dialogues about lab results", 10000, "healthcare", scenarios=["lab_results"]),
    case("Generate 3 thousand store calls", 3000, "retail"),
    case(
        "Generate 1.5 thousand e-commerce calls about damaged items",
        1500,
        "retail",
        scenarios=["damaged_item"],
    ),
    case("Give me two hundred medical conversations", 200, "healthcare"),
    case(
        "Generate a dozen doctor's office calls about prescription refills and appointment booking",
        12,
        "healthcare",
        scenarios=["prescription_refill", "appointment_scheduling"],
    ),
    case("half a dozen short online shop chats", 6, "retail", complexity="simple"),
    case("Generate one hundred and twenty wireless calls", 120, "telecom"),
    case("Generate twenty-five telecom transcripts", 25, "telecom"),
    case("I need twenty five calls for an internet provider", 25, "telecom"),
    case("Generate a hundred retail transcripts", 100, "retail"),
    case("Generate a couple of healthcare calls", 2, "healthcare"),
    case("Generate three thousand five hundred cable company calls", 3500, "telecom"),
    case("Generate a pair of ecommerce transcripts", 2, "retail"),
    case("Generate a healthcare transcript", 1, "healthcare"),
    case(f"Generate {MAX_COUNT:,} retail transcripts", MAX_COUNT, "retail"),
    case("How about 20 TELECOM CALLS?", 20, "telecom"),
    case("count: 40, domain: retail", 40, "retail"),
    # --- numbers that belong to other fields are not the count
    case("Generate 50 healthcare transcripts with 10-15 turns", 50, "healthcare", exchanges=(10, 15)),
    case(
        "Generate 60 telecom conversations about internet outages, 20 to 30 turns",
        60,
        "telecom",
        scenarios=["service_outage"],
        exchanges=(20, 30),
    ),
    case("Give me 80 medical conversations between 8 and 12 exchanges", 80, "healthcare", exchanges=(8, 12)),
    case("Generate 40 retail calls with seed 42", 40, "retail", seed=42),
    case("Generate 40 retail calls, seed=7", 40, "retail", seed=7),
    case("Generate 40 retail calls with random seed 3", 40, "retail", seed=3),
    case(
        "Generate 100 healthcare transcripts with quality threshold 0.9",
        100,
        "healthcare",
        quality_threshold=0.9,
    ),
    case("Generate 100 healthcare transcripts, min quality 0.8", 100, "healthcare", quality_threshold=0.8),
    case("Generate 100 telecom transcripts with quality above 90%", 100, "telecom", quality_threshold=0.9),
    case(
        "Generate 100 telecom transcripts with at least 95% quality", 100, "telecom", quality_threshold=0.95
    ),
    case("Generate 500 healthcare transcripts in 2 days", 500, "healthcare"),
    case("Generate 50 retail calls about a $50 charge", 50, "retail", scenarios=["payment_issue"]),
    case("Generate 2 100-turn healthcare calls", 2, "healthcare", exchanges=(100, 100)),
    case("Generate 50 healthcare transcripts in 2024", 50, "healthcare"),
    case("Generate 500 quality healthcare transcripts.", 500, "healthcare"),
    case("Generate 50 healthcare transcripts with seed 42.", 50, "healthcare", seed=42),
    case(
        "Generate 50 healthcare transcripts; 0.9 quality; seed: 12",
        50,
        "healthcare",
        quality_threshold=0.9,
        seed=12,
    ),
    # --- domains by keyword and synonym
    case("Generate 50 transcripts for a mobile carrier", 50, "telecom"),
    case("Generate 30 hospital calls", 30, "healthcare"),
    case("Generate 30 calls for an online shop", 30, "retail"),
    case("Generate 50 health insurance calls about claims", 50, "healthcare", scenarios=["claim_status"]),
    case(
        "Generate 25 transcripts for a phone company about switching plans",
        25,
        "telecom",
        scenarios=["plan_change"],
    ),
    case("Generate 25 medical transcripts from mobile users", 25, "healthcare"),
    case("Generate 50 calls from new patients", 50, "healthcare", caller_type="new_patient"),
    # --- tones
    case("Generate 50 irate telco customer calls", 50, "telecom", emotional_tone="angry"),
    case("Generate 40 retail calls from furious shoppers", 40, "retail", emotional_tone="angry"),
    case("Generate 40 healthcare calls from fed up patients", 40, "healthcare", emotional_tone="frustrated"),
    case("Generate 30 telecom calls with annoyed callers", 30, "telecom", emotional_tone="frustrated"),
    case("Generate 30 hospital calls with worried callers", 30, "healthcare", emotional_tone="anxious"),
    case(
        "Generate 30 clinic calls from stressed caregivers",
        30,
        "healthcare",
        emotional_tone="anxious",
        caller_type="caregiver",
    ),
    case(
        "Generate 30 retail calls from customers who feel lost about tracking",
        30,
        "retail",
        emotional_tone="confused",
        scenarios=["order_status"],
    ),
    case("Generate 30 telecom calls with puzzled callers", 30, "telecom", emotional_tone="confused"),
    case("Generate 30 retail calls with happy customers", 30, "retail", emotional_tone="satisfied"),
    case("Generate 30 telecom calls with grateful callers", 30, "telecom", emotional_tone="satisfied"),
    case("Generate 30 retail calls from polite customers", 30, "retail", emotional_tone="calm"),
    case(
        "Generate 20 telecom calls with very patient callers about phone upgrades",
        20,
        "telecom",
        emotional_tone="calm",
        scenarios=["device_support", "plan_change"],
    ),
    case(
        "Generate 20 healthcare calls from busy professionals in a hurry about rescheduling appointments",
        20,
        "healthcare",
        emotional_tone="impatient",
        caller_type="busy_professional",
        scenarios=["appointment_scheduling"],
    ),
    case("Generate 20 retail calls from rushed customers", 20, "retail", emotional_tone="impatient"),
    case(
        "Generate 20 healthcare calls from grieving family members about claims",
        20,
        "healthcare",
        emotional_tone="sad",
        caller_type="caregiver",
        scenarios=["claim_status"],
    ),
    case("Generate 20 retail calls with customers upset about a loss", 20, "retail", emotional_tone="sad"),
    case("Generate 20 retail calls with disappointed customers", 20, "retail", emotional_tone="sad"),
    case("Generate 20 neutral telecom calls", 20, "telecom", emotional_tone="neutral"),
    case("Generate 20 retail calls that are not angry", 20, "retail"),
    case(
        "Generate 20 retail calls about returns, no angry callers", 20, "retail", scenarios=["return_refund"]
    ),
    case("Generate 20 retail calls with a mix of tones", 20, "retail"),
    # --- complexity
    case("Generate 30 quick telecom calls", 30, "telecom", complexity="simple"),
    case("Generate 30 long telecom calls", 30, "telecom", complexity="complex"),
    case(
        "Make 10 transcripts of escalated telecom billing disputes with furious small business owners",
        10,
        "telecom",
        emotional_tone="angry",
        complexity="complex",
        caller_type="business",
        scenarios=["billing_dispute"],
    ),
    case(
        "Generate 10 complicated healthcare calls about coverage",
        10,
        "healthcare",
        complexity="complex",
        scenarios=["coverage_question"],
    ),
    case("Generate 5 telecom calls with long wait times", 5, "telecom"),
    # --- turns per call
    case(
        "Generate twenty-five telecom transcripts with at least 10 turns", 25, "telecom", exchanges=(10, 14)
    ),
    case(
        "Generate 25 detailed telecom calls with at least 20 turns",
        25,
        "telecom",
        complexity="complex",
        exchanges=(20, 28),
    ),
    case("Generate 25 telecom transcripts, at most 8 turns", 25, "telecom", exchanges=(4, 8)),
    case("Generate 25 telecom transcripts with at most 12 turns", 25, "telecom", exchanges=(8, 12)),
    case("Generate 100 retail transcripts of about 20 turns", 100, "retail", exchanges=(18, 22)),
    case("Generate 2 healthcare calls of 12 turns", 2, "healthcare", exchanges=(12, 12)),
    case("Generate 50 telecom calls with 10+ turns", 50, "telecom", exchanges=(10, 14)),
    case("Generate 50 telecom calls with more than 10 turns", 50, "telecom", exchanges=(11, 14)),
    case("Generate 50 retail calls, exchanges: 10-14", 50, "retail", exchanges=(10, 14)),
    case("Generate 50 telecom calls, exchanges between 8 and 12", 50, "telecom", exchanges=(8, 12)),
    case(
        "Generate 15 brief clinic calls about booking, 6 to 8 turns",
        15,
        "healthcare",
        complexity="simple",
        scenarios=["appointment_scheduling"],
        exchanges=(6, 8),
    ),
    case("Generate 15 retail calls with ten to fifteen turns", 15, "retail", exchanges=(10, 15)),
    # --- scenarios: only the chosen domain's, in order of first mention
    case(
        "Generate 50 retail calls about tracking and cancellation",
        50,
        "retail",
        scenarios=["order_status", "cancel_order"],
    ),
    case(
        "Generate 50 telecom calls about router problems and roaming",
        50,
        "telecom",
        scenarios=["device_support", "international_roaming"],
    ),
    case("Generate 20 telecom phone calls about outages", 20, "telecom", scenarios=["service_outage"]),
    case("Generate 50 healthcare calls about billing", 50, "healthcare", scenarios=["billing_dispute"]),
    case("Generate 50 retail calls about card declined errors", 50, "retail", scenarios=["payment_issue"]),
    case("Generate 30 retail calls about lost deliveries", 30, "retail", scenarios=["order_status"]),
    # --- caller types
    case("Generate 50 telecom calls from students", 50, "telecom", caller_type="student"),
    case("Generate 50 telecom calls from seniors", 50, "telecom", caller_type="elderly"),
    case("Generate 50 retail calls from retirees", 50, "retail", caller_type="elderly"),
    case("Generate 50 telecom calls from older customers", 50, "telecom", caller_type="elderly"),
    case("Generate 50 retail calls from small businesses", 50, "retail", caller_type="business"),
    case("Generate 50 telecom calls from corporate clients", 50, "telecom", caller_type="business"),
    case(
        "Could you produce 40 short retail chats about refunds from first-time buyers?",
        40,
        "retail",
        complexity="simple",
        caller_type="first_time",
        scenarios=["return_refund"],
    ),
    case("Generate 40 retail calls from new customers", 40, "retail", caller_type="first_time"),
    case("Generate 40 retail calls from long-time customers", 40, "retail", caller_type="loyal_customer"),
    case("Generate 40 retail calls from repeat customers", 40, "retail", caller_type="loyal_customer"),
    case("Generate 40 telecom calls from techies", 40, "telecom", caller_type="tech_savvy"),
    case("Generate 40 telecom calls from tech-savvy users", 40, "telecom", caller_type="tech_savvy"),
    case("Generate 40 healthcare calls from caregivers", 40, "healthcare", caller_type="caregiver"),
    case(
        "Generate 10 healthcare calls from new patient callers", 10, "healthcare", caller_type="new_patient"
    ),
    # --- formats and language
    case("Generate 40 retail calls in JSON", 40, "retail", formats=["custom_json"]),
    case("Generate 40 retail calls in English", 40, "retail", language="en"),
    case(
        "Generate 40 retail calls as JSONL in English", 40, "retail", formats=["custom_json"], language="en"
    ),
    # --- everything at once
    case(
        "I need 1,500 telco calls from angry customers about billing, 10-15 turns each",
        1500,
        "telecom",
        emotional_tone="angry",
        scenarios=["billing_dispute"],
        exchanges=(10, 15),
    ),
    case(
        "Please create 75 conversations for an online store where callers are fed up with late delivery",
        75,
        "retail",
        emotional_tone="frustrated",
        scenarios=["order_status"],
    ),
    case(
        "I want 300 calls from elderly patients at a clinic about their medication",
        300,
        "healthcare",
        caller_type="elderly",
        scenarios=["prescription_refill"],
    ),
    case(
        "Generate 50 healthcare transcripts with 10-15 turns, seed 42 and 90% quality in JSON",
        50,
        "healthcare",
        exchanges=(10, 15),
        seed=42,
        quality_threshold=0.9,
    ),
    case(
        "Generate 12 healthcare calls with seed number 11 and minimum quality of 0.75",
        12,
        "healthcare",
        seed=11,
        quality_threshold=0.75,
    ),
    case(
        "Generate 80 hospital calls with anxious caregivers about test results",
        80,
        "healthcare",
        emotional_tone="anxious",
        caller_type="caregiver",
        scenarios=["lab_results"],
    ),
    case(
        "Generate 7 telecom calls for college students travelling abroad",
        7,
        "telecom",
        caller_type="student",
        scenarios=["international_roaming"],
    ),
    case(
        "Generate 50 telecom calls from seniors confused about roaming charges",
        50,
        "telecom",
        emotional_tone="confused",
        caller_type="elderly",
        scenarios=["international_roaming", "billing_dispute"],
    ),
]


def test_the_table_is_large_and_distinct() -> None:
    requests = [request for request, _ in CASES]
    assert len(set(requests)) == len(requests) >= 60
    assert {expected["domain"] for _, expected in CASES} == {"healthcare", "retail", "telecom"}


@pytest.mark.parametrize(("request_text", "expected"), CASES, ids=[r for r, _ in CASES])
def test_parse_request(packs: Packs, request_text: str, expected: dict[str, Any]) -> None:
    assert parse_request(request_text, packs).model_dump() == expected


def test_every_pack_keyword_selects_its_domain(packs: Packs) -> None:
    for name, pack in packs.items():
        for keyword in pack.keywords:
            parsed = parse_request(f"Generate 10 {keyword} transcripts", packs)
            assert (parsed.domain, parsed.scenarios) == (name, []), keyword


def test_every_scenario_keyword_selects_its_scenario(packs: Packs) -> None:
    for name, pack in packs.items():
        for scenario in pack.scenarios:
            for keyword in scenario.keywords:
                parsed = parse_request(f"Generate 10 {name} calls about {keyword}", packs)
                assert parsed.scenarios == [scenario.id], (name, keyword)


def test_every_caller_type_is_understood_by_name(packs: Packs) -> None:
    for name, pack in packs.items():
        for caller_type in pack.caller_types:
            parsed = parse_request(
                f"Generate 10 {name} calls from {caller_type.replace('_', ' ')} callers", packs
            )
            assert parsed.caller_type == caller_type


def test_a_custom_pack_is_found_by_its_own_keywords(packs: Packs) -> None:
    banking = packs["retail"].model_copy(
        update={"name": "banking", "keywords": ["banking", "bank", "credit union"]}
    )
    with_banking = {**packs, "banking": banking}
    parsed = parse_request("Generate 20 credit union calls about refunds", with_banking)
    assert (parsed.count, parsed.domain, parsed.scenarios) == (20, "banking", ["return_refund"])


@pytest.mark.parametrize(
    ("request_text", "fmt"),
    [
        ("Generate 30 retail calls in Rasa format", "rasa"),
        ("Generate 30 telecom calls for Dialogflow", "ccai"),
        ("Generate 30 telecom calls for Google CCAI", "ccai"),
        ("Generate 30 telecom calls for Contact Lens", "contact_lens"),
        ("Generate 30 telecom calls for Amazon Lex", "contact_lens"),
        ("Generate 30 telecom calls in JSON", "custom_json"),
        ("Generate 30 telecom calls as JSONL", "custom_json"),
    ],
)
def test_formats(packs: Packs, request_text: str, fmt: str) -> None:
    if fmt in KNOWN_FORMATS:
        assert parse_request(request_text, packs).formats == [fmt]
        return
    with pytest.raises(RequestError) as err:
        parse_request(request_text, packs)
    assert str(err.value) == (
        f"formats: unknown export format(s) [{fmt!r}]; available formats: {', '.join(KNOWN_FORMATS)}"
    )


def test_several_formats_keep_the_order_of_mention(packs: Packs) -> None:
    request_text = "Generate 30 retail calls for Contact Lens, Rasa and JSON"
    wanted = ["contact_lens", "rasa", "custom_json"]
    unknown = [f for f in wanted if f not in KNOWN_FORMATS]
    if not unknown:
        assert parse_request(request_text, packs).formats == wanted
        return
    with pytest.raises(RequestError) as err:
        parse_request(request_text, packs)
    assert (
        str(err.value)
        == f"formats: unknown export format(s) {unknown}; available formats: {', '.join(KNOWN_FORMATS)}"
    )


REFUSALS: list[tuple[str, list[str]]] = [
    ("", ["request: the request is empty", EXAMPLE]),
    ("   ", ["request: the request is empty", EXAMPLE]),
    (
        "hello",
        ["could not find what to generate in 'hello'", "how many", EXAMPLE, "healthcare, retail, telecom"],
    ),
    ("asdf qwerty", ["could not find what to generate", EXAMPLE]),
    ("make me a sandwich", ["could not find what to generate", EXAMPLE]),
    (
        "Generate transcripts",
        [
            "count: the request does not say how many",
            "Generate 50 healthcare transcripts",
            "domain: the request does not name a domain",
        ],
    ),
    (
        "Generate healthcare transcripts",
        [
            "count: the request does not say how many transcripts",
            "say how many, e.g. 'Generate 50 healthcare transcripts'",
        ],
    ),
    ("Generate 0 healthcare transcripts", ["count: 0 is not a count", "at least 1"]),
    ("Generate -5 retail calls", ["count: -5 is not a count", "at least 1"]),
    ("Generate 2.5 telecom transcripts", ["count: 2.5 is not a whole number", "whole number of transcripts"]),
    (
        f"Generate {MAX_COUNT * 2:,} healthcare transcripts",
        [f"count: {MAX_COUNT * 2:,} is more than the limit of {MAX_COUNT:,}", f"at most {MAX_COUNT:,}"],
    ),
    (
        "Generate 2 million healthcare transcripts",
        [f"limit of {MAX_COUNT:,} transcripts per job", "several jobs"],
    ),
    (
        f"Generate {MAX_COUNT + 1:,} retail transcripts",
        [f"count: {MAX_COUNT + 1:,}", f"limit of {MAX_COUNT:,}"],
    ),
    ("Generate 10 to 15 telecom calls", ["count: '10 to 15' is a range", "say exactly how many"]),
    (
        "Generate 25 hospital calls and 10 clinic calls",
        ["count: the request gives several counts (25, 10)", "one count"],
    ),
    (
        "Generate 50 transcripts",
        [
            "domain: the request does not name a domain",
            "known domains are healthcare, retail, telecom",
            "Generate 50 healthcare",
        ],
    ),
    (
        "Generate 25 transcripts for a hospital and a phone company",
        [
            "domain: the request mentions several domains",
            "healthcare: 'hospital'",
            "telecom: 'phone company'",
        ],
    ),
    (
        "Generate 50 angry and calm telecom calls",
        [
            "emotional_tone: the request asks for both 'angry' and 'calm'",
            "choose one tone, or none for a mix",
        ],
    ),
    (
        "Generate 50 irate but happy retail calls",
        ["emotional_tone:", "'angry' (from 'irate')", "'satisfied' (from 'happy')", "none for a mix"],
    ),
    (
        "Generate 50 short detailed telecom calls",
        [
            "complexity: the request asks for both 'simple' (from 'short')",
            "'complex' (from 'detailed')",
            "choose one",
        ],
    ),
    (
        "Generate 50 retail calls from students",
        [
            "caller_type: the retail domain has no 'student' callers",
            "business, elderly, first_time, loyal_customer",
        ],
    ),
    (
        "Generate 50 healthcare calls from tech-savvy callers",
        [
            "caller_type: the healthcare domain has no 'tech_savvy'",
            "busy_professional, caregiver, elderly, new_patient",
        ],
    ),
    (
        "Generate 50 telecom calls from students and seniors",
        ["caller_type: the request names several caller types", "student, elderly"],
    ),
    ("Generate 40 retail calls in Spanish", ["language: language 'es' is not supported yet", "use 'en'"]),
    (
        "Generate 40 retail calls in English and French",
        ["language: the request names several languages (en, fr)"],
    ),
    (
        "Generate 50 retail calls, 10-15 turns, 12 turns",
        ["exchanges: the request gives several turn counts", "'10-15 turns', '12 turns'", "'10 to 15 turns'"],
    ),
    ("Generate 50 telecom calls with 1 turn", ["exchanges: the minimum must be at least 2 turns"]),
    ("Generate 50 telecom calls with 500 turns", ["exchanges: at most 400 turns per conversation, got 500"]),
    ("Generate 50 telecom calls with 2.5 turns", ["exchanges: 2.5 is not a whole number of turns"]),
    (
        "Generate 50 retail calls with quality 1.5",
        ["quality_threshold: 'quality 1.5' is out of range", "between 0 and 1", "'at least 90% quality'"],
    ),
    ("Generate 50 retail calls with quality threshold 150%", ["quality_threshold: 'quality threshold 150%'"]),
    (
        "Generate 50 retail calls with seed 1 and seed 2",
        ["seed: the request gives several seeds (1, 2)", "give one, e.g. seed 42"],
    ),
]


@pytest.mark.parametrize(("request_text", "fragments"), REFUSALS, ids=[r or "<empty>" for r, _ in REFUSALS])
def test_refusals_name_the_field_and_the_fix(packs: Packs, request_text: str, fragments: list[str]) -> None:
    with pytest.raises(RequestError) as err:
        parse_request(request_text, packs)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_refusals_are_many(packs: Packs) -> None:
    assert len(REFUSALS) >= 15


@pytest.mark.parametrize(
    ("request_text", "name"),
    [
        ("Generate 50 banking transcripts", "banking"),
        ("Generate 50 insurance agency calls", "insurance agency"),
        ("Generate 50 airline customer service calls", "airline"),
        ("Generate 25 transcripts for the banking industry", "banking"),
    ],
)
def test_unknown_domain_uses_the_shared_message(packs: Packs, request_text: str, name: str) -> None:
    """The shared message, then the closest domains by meaning (none close enough to choose)."""
    with pytest.raises(RequestError) as err:
        parse_request(request_text, packs)
    assert str(err.value).startswith(unknown_domain_message(name, packs) + " Closest by meaning: ")
    assert "Did you mean " in str(err.value)


def test_all_problems_are_reported_together(packs: Packs) -> None:
    with pytest.raises(RequestError) as err:
        parse_request("Generate banking transcripts with angry and calm callers", packs)
    lines = str(err.value).splitlines()
    assert lines[0].startswith("count: the request does not say how many")
    assert lines[1].startswith("emotional_tone: the request asks for both 'angry' and 'calm'")
    assert lines[2].startswith(unknown_domain_message("banking", packs))


def test_a_domain_without_keywords_in_the_request_is_not_guessed(packs: Packs) -> None:
    with pytest.raises(RequestError, match=r"^domain: the request does not name a domain"):
        parse_request("Generate 25 transcripts about cancellations", packs)


def test_request_error_is_a_value_error() -> None:
    assert issubclass(RequestError, ValueError)


# ----------------------------------------------------------------------------------- job spec files


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data) if path.suffix == ".json" else yaml.safe_dump(data), encoding="utf-8")
    return path


FILE_FIELDS = {
    "count": 50,
    "domain": "telecom",
    "emotional_tone": "angry",
    "scenarios": ["billing_dispute", "service_outage"],
    "exchanges": [10, 15],
    "seed": 7,
}
FILE_SPEC = spec(
    50,
    "telecom",
    emotional_tone="angry",
    scenarios=["billing_dispute", "service_outage"],
    exchanges=(10, 15),
    seed=7,
)


@pytest.mark.parametrize("name", ["job.yaml", "job.yml", "job.json"])
def test_load_job_spec_file(packs: Packs, tmp_path: Path, name: str) -> None:
    path = write(tmp_path / name, FILE_FIELDS)
    assert load_job_spec_file(path, packs).model_dump() == FILE_SPEC


def test_file_typo_field_is_named_with_a_suggestion(packs: Packs, tmp_path: Path) -> None:
    path = write(tmp_path / "job.yaml", {"count": 5, "domain": "retail", "emotinal_tone": "angry"})
    with pytest.raises(RequestError) as err:
        load_job_spec_file(path, packs)
    message = str(err.value)
    assert message.startswith(f"{path}: emotinal_tone: unknown field: remove it or fix its spelling")
    assert "did you mean 'emotional_tone'?" in message


def test_file_bad_scenario_id_lists_the_valid_ones(packs: Packs, tmp_path: Path) -> None:
    path = write(
        tmp_path / "job.json", {"count": 5, "domain": "healthcare", "scenarios": ["billing", "lab_results"]}
    )
    with pytest.raises(RequestError) as err:
        load_job_spec_file(path, packs)
    ids = ", ".join(s.id for s in packs["healthcare"].scenarios)
    assert str(err.value) == (
        f"{path}: scenarios: unknown scenario id(s) 'billing' for domain 'healthcare' "
        f"(did you mean billing_dispute?); valid ids: {ids}"
    )


def test_file_problems_one_line_each(packs: Packs, tmp_path: Path) -> None:
    path = write(
        tmp_path / "job.yaml", {"domain": "retail", "count": 0, "quality_threshold": 2, "colour": "red"}
    )
    with pytest.raises(RequestError) as err:
        load_job_spec_file(path, packs)
    lines = str(err.value).splitlines()
    assert lines == [
        f"{path}: count: Input should be greater than or equal to 1",
        f"{path}: quality_threshold: Input should be less than or equal to 1",
        f"{path}: colour: unknown field: remove it or fix its spelling (fields are: "
        "count, domain, emotional_tone, complexity, caller_type, scenarios, exchanges, formats, language, "
        "quality_threshold, seed)",
    ]


def test_file_missing_field(packs: Packs, tmp_path: Path) -> None:
    path = write(tmp_path / "job.yaml", {"domain": "retail"})
    with pytest.raises(RequestError, match=r"job\.yaml: count: field required: add it"):
        load_job_spec_file(path, packs)


def test_file_unknown_domain_and_caller_type(packs: Packs, tmp_path: Path) -> None:
    path = write(tmp_path / "job.yaml", {"count": 3, "domain": "banking"})
    with pytest.raises(RequestError) as err:
        load_job_spec_file(path, packs)
    assert str(err.value) == f"{path}: {unknown_domain_message('banking', packs)}"

    path = write(tmp_path / "job2.yaml", {"count": 3, "domain": "retail", "caller_type": "student"})
    with pytest.raises(RequestError) as err:
        load_job_spec_file(path, packs)
    assert str(err.value) == (
        f"{path}: caller_type: 'student' is not a caller type of the retail domain; "
        "choose one of: business, elderly, first_time, loyal_customer"
    )


def test_file_unknown_format_keeps_the_job_spec_message(packs: Packs, tmp_path: Path) -> None:
    path = write(tmp_path / "job.yaml", {"count": 3, "domain": "retail", "formats": ["pdf"]})
    with pytest.raises(RequestError) as err:
        load_job_spec_file(path, packs)
    assert str(err.value) == (
        f"{path}: formats: unknown export format(s) ['pdf']; available formats: {', '.join(KNOWN_FORMATS)}"
    )


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("bad.yaml", "count: [1, 2\n", "not valid YAML"),
        ("bad.json", '{"count": 5,', "not valid JSON"),
        ("list.yaml", "- count: 5\n", "a job spec file must hold a mapping of JobSpec fields"),
        ("empty.yaml", "", "a job spec file must hold a mapping of JobSpec fields"),
    ],
)
def test_file_unreadable_content(packs: Packs, tmp_path: Path, name: str, text: str, fragment: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RequestError) as err:
        load_job_spec_file(path, packs)
    assert str(err.value).startswith(f"{path}: {fragment}")


# ---------------------------------------------------------------------------------- resolve_request


def test_resolve_request_loads_existing_files(packs: Packs, tmp_path: Path) -> None:
    for name in ("job.yaml", "job.yml", "job.json", "JOB.YAML"):
        path = write(tmp_path / name, FILE_FIELDS)
        assert resolve_request(str(path), packs).model_dump() == FILE_SPEC


def test_resolve_request_missing_file(packs: Packs, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(RequestError) as err:
        resolve_request(str(missing), packs)
    assert str(err.value).startswith(f"job spec file {missing} not found: check the path")
    assert EXAMPLE in str(err.value)


def test_resolve_request_parses_text(packs: Packs) -> None:
    assert resolve_request("Generate 500 healthcare transcripts with frustrated callers", packs) == JobSpec(
        count=500, domain="healthcare", emotional_tone="frustrated"
    )


# ---------------------------------------------------------------------------------- validate_against_packs


def test_validate_against_packs_accepts_a_valid_spec(packs: Packs) -> None:
    job = JobSpec(count=3, domain="retail", scenarios=["order_status"], caller_type="elderly")
    assert validate_against_packs(job, packs) is job


def test_validate_against_packs_unknown_domain(packs: Packs) -> None:
    with pytest.raises(RequestError) as err:
        validate_against_packs(JobSpec(count=3, domain="banking"), packs)
    assert str(err.value) == unknown_domain_message("banking", packs)


def test_validate_against_packs_reports_scenarios_and_caller_type(packs: Packs) -> None:
    job = JobSpec(count=3, domain="telecom", scenarios=["roaming", "outage"], caller_type="caregiver")
    with pytest.raises(RequestError) as err:
        validate_against_packs(job, packs)
    lines = str(err.value).splitlines()
    assert lines[0].startswith("scenarios: unknown scenario id(s) 'roaming', 'outage' for domain 'telecom'")
    assert f"valid ids: {', '.join(s.id for s in packs['telecom'].scenarios)}" in lines[0]
    assert lines[1] == (
        "caller_type: 'caregiver' is not a caller type of the telecom domain; "
        "choose one of: business, elderly, student, tech_savvy"
    )
