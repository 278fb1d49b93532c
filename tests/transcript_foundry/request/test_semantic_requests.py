"""Requests as people write them: the semantic layer (the shipped MiniLM against the packs' own text), the
explanation, refusals with candidates, the nouns and counts people use, and a custom pack reached only
through its scenario words. The phrasings here are not the benchmark's (bench/request_parsing.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from transcript_foundry.domains.domain_pack import (
    DOMAIN_DIRS_ENV,
    DomainPack,
    load_domain_pack_file,
    load_domain_packs,
)
from transcript_foundry.request.parser import RequestError, parse_request, understand_request
from transcript_foundry.request.semantic_match import SemanticMatcher
from transcript_foundry.request.sentence_encoder import load_sentence_encoder

Packs = dict[str, DomainPack]
BANKING = Path(__file__).parent / "packs" / "banking.yaml"


@pytest.fixture(scope="module")
def packs() -> Packs:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(DOMAIN_DIRS_ENV, raising=False)
        return load_domain_packs()


@pytest.fixture(scope="module")
def with_banking(packs: Packs) -> Packs:
    return {**packs, "banking": load_domain_pack_file(BANKING)}


def fields(spec: Any) -> tuple[Any, ...]:
    return (spec.count, spec.domain, spec.scenarios, spec.emotional_tone, spec.caller_type)


# The misses of issue 19: each was refused by the rules-only parser.
ISSUE_MISSES: list[tuple[str, tuple[Any, ...]]] = [
    (
        "3 thousand ISP outage calls, customers fed up",
        (3000, "telecom", ["service_outage"], "frustrated", None),
    ),
    (
        "Need 35 angry customers calling about a late furniture delivery",
        (35, "retail", ["order_status"], "angry", None),
    ),
    ("40 Medicare enrollment conversations", (40, "healthcare", [], None, None)),
    ("Generate 60 grocery delivery chats", (60, "retail", ["order_status"], None, None)),
    ("18 SIM swap calls", (18, "telecom", ["device_support"], None, None)),
    ("70 fiber installation dialogues", (70, "telecom", [], None, None)),
    ("Generate 30 ISP calls from annoyed subscribers", (30, "telecom", [], "frustrated", None)),
    (
        "45 calls to the cable company from people pleased with the service",
        (45, "telecom", [], "satisfied", None),
    ),
    ("25 telco customers sad to leave, as recordings", (25, "telecom", [], "sad", None)),
    (
        "20 hospital chats, callers anxious about fraud on a bill",
        (20, "healthcare", ["billing_dispute"], "anxious", None),
    ),
]


@pytest.mark.parametrize(("request_text", "expected"), ISSUE_MISSES, ids=[r for r, _ in ISSUE_MISSES])
def test_the_issues_misses_are_understood(packs: Packs, request_text: str, expected: tuple[Any, ...]) -> None:
    assert fields(parse_request(request_text, packs)) == expected


@pytest.mark.parametrize(
    "request_text",
    ["3 thousand ISP outage calls, customers fed up", "18 SIM swap calls", "70 fiber installation dialogues"],
)
def test_the_rules_alone_refuse_them(packs: Packs, request_text: str) -> None:
    """The same requests without the semantic layer: what the issue measured."""
    with pytest.raises(RequestError, match="domain"):
        parse_request(request_text, packs, semantic=False)


FORMS: list[tuple[str, tuple[Any, ...]]] = [
    ("a few hundred clinic recordings", (300, "healthcare", [], None, None)),
    ("a couple of thousand wireless dialogues", (2000, "telecom", [], None, None)),
    ("several dozen retail conversations", (60, "retail", [], None, None)),
    ("3k telco chats", (3000, "telecom", [], None, None)),
    ("two dozen frustrated healthcare recordings", (24, "healthcare", [], "frustrated", None)),
    ("telecom calls x 40", (40, "telecom", [], None, None)),
    ("retail chats, 25 of them", (25, "retail", [], None, None)),
    ("healthcare dialogues: 60", (60, "healthcare", [], None, None)),
    ("eleven e-commerce transcripts", (11, "retail", [], None, None)),
]


@pytest.mark.parametrize(("request_text", "expected"), FORMS, ids=[r for r, _ in FORMS])
def test_nouns_and_counts_people_use(packs: Packs, request_text: str, expected: tuple[Any, ...]) -> None:
    assert fields(parse_request(request_text, packs)) == expected


BANKING_BY_SCENARIO: list[tuple[str, tuple[Any, ...]]] = [
    ("40 calls about an overdraft fee", (40, "banking", ["overdraft_fee"], None, None)),
    (
        "two dozen conversations from people whose card got stolen",
        (24, "banking", ["card_lost_stolen"], None, None),
    ),
    ("300 chats about mortgage escrow", (300, "banking", ["mortgage_payment"], None, None)),
    (
        "15 calls from sole traders about a wire transfer",
        (15, "banking", ["wire_transfer"], None, "business"),
    ),
    ("12 recordings: someone took my wallet", (12, "banking", ["card_lost_stolen"], None, None)),
    ("Generate 9 worried calls about a fraud alert", (9, "banking", ["fraud_alert"], "anxious", None)),
]


@pytest.mark.parametrize(
    ("request_text", "expected"), BANKING_BY_SCENARIO, ids=[r for r, _ in BANKING_BY_SCENARIO]
)
def test_a_custom_pack_is_recognised_from_its_scenario_words(
    with_banking: Packs, request_text: str, expected: tuple[Any, ...]
) -> None:
    assert fields(parse_request(request_text, with_banking)) == expected


def test_without_the_custom_pack_the_same_words_are_refused(packs: Packs) -> None:
    with pytest.raises(RequestError) as err:
        parse_request("40 calls about an overdraft fee on a checking account", packs)
    assert "domain" in str(err.value) and "Did you mean " in str(err.value)


REFUSALS: list[tuple[str, list[str]]] = [
    (
        "Generate 50 hotel booking calls",
        ["unknown domain 'hotel booking'", "sounds like travel", "Did you mean healthcare"],
    ),
    ("80 car insurance claim calls", ["domain", "sounds like insurance", "Did you mean healthcare"]),
    ("30 conversations for a pizza place", ["domain", "no domain pack covers", "Did you mean"]),
    (
        "25 calls about cancellations",
        ["domain: the request does not name a domain", "retail", "telecom", "Did you mean"],
    ),
    (
        "Generate 40 calls about the weather on Mars",
        ["domain: the request does not name a domain", "Did you mean"],
    ),
]


@pytest.mark.parametrize(("request_text", "fragments"), REFUSALS, ids=[r for r, _ in REFUSALS])
def test_refusals_name_the_field_and_offer_candidates(
    packs: Packs, request_text: str, fragments: list[str]
) -> None:
    with pytest.raises(RequestError) as err:
        parse_request(request_text, packs)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_the_explanation_says_which_words_chose_what(packs: Packs) -> None:
    understood = understand_request("3 thousand ISP outage calls, customers fed up", packs)
    lines = understood.explain()
    assert lines[0].startswith("domain telecom from 'ISP outage' ≈ domain ('ISP'), 0.")  # a pack synonym
    assert float(lines[0].rsplit(", ", 1)[1]) >= 0.6
    assert "emotional_tone frustrated from 'fed up'" in lines
    assert understood.semantic
    lines = understand_request("a hundred grocery delivery chats", packs).explain()
    assert lines[0].startswith(
        "domain retail from 'grocery delivery' ≈ scenario order_status ('delivery'), 0."
    )


def test_a_request_the_rules_settle_never_loads_the_model(packs: Packs) -> None:
    matcher = SemanticMatcher(packs)
    understood = understand_request(
        "Generate 40 angry telco calls about roaming, seed 3", packs, matcher=matcher
    )
    assert not matcher.loaded and not understood.semantic
    assert understood.explain() == [
        "domain telecom from 'telco' (keyword)",
        "scenario international_roaming from 'roaming'",
        "emotional_tone angry from 'angry'",
    ]


def test_the_model_loads_once(packs: Packs) -> None:
    for text in ("18 SIM swap calls", "70 fiber installation dialogues", "60 grocery delivery chats"):
        assert understand_request(text, packs).semantic
    assert load_sentence_encoder.cache_info().currsize == 1


def test_thresholds_decide_and_can_be_raised(packs: Packs) -> None:
    from transcript_foundry.request.semantic_match import Thresholds

    strict = SemanticMatcher(packs, thresholds=Thresholds(domain=0.95))
    with pytest.raises(RequestError, match=r"Did you mean retail \(order_status, 0\.\d\d\)"):
        parse_request("500 grocery delivery calls", packs, matcher=strict)


def test_without_an_embedding_model_the_rules_answer_alone(
    packs: Packs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent-only install has no MiniLM: requests the rules settle still parse, the rest are refused."""
    from transcript_foundry.dedup.embedding_model import MODEL_PATH_ENV

    monkeypatch.setenv(MODEL_PATH_ENV, str(tmp_path))  # an empty folder: no model there
    assert parse_request("Generate 40 angry telco calls", packs).domain == "telecom"
    with pytest.raises(RequestError, match=r"^unknown domain 'isp outage'"):
        parse_request("3 thousand ISP outage calls", packs)
