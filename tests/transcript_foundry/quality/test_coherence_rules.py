"""Role and entity rules: each fires on a crafted broken call, naming the turn, and not on its clean twin;
none fires on any reference call."""

from __future__ import annotations

from datetime import date

import pytest

from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.entity_rules import entity_findings
from transcript_foundry.quality.coherence.findings import Finding
from transcript_foundry.quality.coherence.reference_calls import reference_calls
from transcript_foundry.quality.coherence.role_rules import role_findings

TODAY = date(2026, 12, 3)
CLEAN: tuple[tuple[str, str], ...] = (
    ("AGENT", "Thank you for calling Tidewell Clinics, this is Maria. How can I help you today?"),
    ("CUSTOMER", "Hi Maria. I got a bill for $412.50 for a visit that should have been covered."),
    ("AGENT", "I'm sorry about that. Can I have your member ID and date of birth, please?"),
    ("CUSTOMER", "Sure, my name is Dana Pruitt, member ID TW48213907, and I was born March 22nd, 1986."),
    (
        "AGENT",
        "Thank you, Ms. Pruitt. I see member ID TW48213907 and the claim for $412.50 from February 6th.",
    ),
    ("CUSTOMER", "Right, that's the one. It was processed out-of-network, but the clinic is in-network."),
    ("AGENT", "You're right, that's our mistake. I'm sending it back to be reprocessed at your $50 copay."),
    ("CUSTOMER", "Okay, thanks. And I was born March 22nd, 1986, in case you need it for the form."),
    ("AGENT", "I have it, thanks. Your reference number is R-77310. Anything else I can help with?"),
    ("CUSTOMER", "No, that's all. Thanks, Maria. Bye."),
)


def view(turns: tuple[tuple[str, str], ...], **meta: str) -> CallView:
    return CallView(turns=turns, **meta)  # type: ignore[arg-type]


def findings(v: CallView) -> list[Finding]:
    return [*role_findings(v), *entity_findings(v, TODAY)]


def replaced(index: int, text: str) -> tuple[tuple[str, str], ...]:
    turns = list(CLEAN)
    turns[index] = (turns[index][0], text)
    return tuple(turns)


BROKEN = [
    (
        "customer_speaks_as_company",
        1,
        "Hi, I'm from Tidewell Clinics. I got a bill for $412.50 I shouldn't have.",
    ),
    ("customer_speaks_as_company", 5, "Thank you for calling, how can I help you today?"),
    ("agent_speaks_as_caller", 6, "I'm calling about my bill, it should have been covered."),
    (
        "own_name_address",
        4,
        "Thank you, Maria. I see member ID TW48213907 and the claim for $412.50 from February 6th.",
    ),
    ("own_name_address", 9, "No, that's all. Thanks, Dana. Bye."),
    ("name_inconsistency", 9, "No, that's all. Thanks, Hannah. Bye."),
    (
        "name_inconsistency",
        4,
        "Thank you, Mr. Okafor. I see member ID TW48213907 and the claim for $412.50 from February 6th.",
    ),
    (
        "company_inconsistency",
        8,
        "Thanks for calling Bluepine Health Plan. Your reference number is R-77310.",
    ),
    (
        "identifier_contradiction",
        4,
        "Thank you, Ms. Pruitt. I see member ID TW48213970 and the claim for $412.50 from February 6th.",
    ),
    (
        "identifier_contradiction",
        4,
        "Thank you, Ms. Pruitt. I see member ID TW55501234 and the claim for $412.50 from February 6th.",
    ),
    (
        "amount_contradiction",
        4,
        "Thank you, Ms. Pruitt. I see member ID TW48213907 and the claim for $421.50 from February 6th.",
    ),
    (
        "date_contradiction",
        7,
        "Okay, thanks. And I was born March 22nd, 1968, in case you need it for the form.",
    ),
    (
        "implausible_birth_date",
        3,
        "Sure, my name is Dana Pruitt, member ID TW48213907, and I was born March 22nd, 2024.",
    ),
    (
        "implausible_birth_date",
        3,
        "Sure, my name is Dana Pruitt, member ID TW48213907, and my date of birth is 5-14-2031.",
    ),
    ("unanswered_request", 3, "Sure, I'm Dana Pruitt. Can you just fix it?"),
]


def test_the_clean_twin_has_no_finding() -> None:
    assert findings(view(CLEAN)) == []
    assert (
        findings(view(CLEAN, company="Tidewell Clinics", agent_name="Maria", customer_name="Dana Pruitt"))
        == []
    )


@pytest.mark.parametrize(("rule", "turn", "text"), BROKEN, ids=[f"{r}-{t}" for r, t, _ in BROKEN])
def test_rule_fires_on_the_broken_turn(rule: str, turn: int, text: str) -> None:
    found = findings(view(replaced(turn, text)))
    assert any(f.rule == rule for f in found), found
    hit = next(f for f in found if f.rule == rule)
    assert hit.turn == turn if rule != "unanswered_request" else hit.turn == turn - 1
    assert hit.reason.startswith(f"turn {hit.turn} ({CLEAN[hit.turn][0]}): ")


def test_agent_thanking_by_own_name_reads_as_such() -> None:
    found = role_findings(
        view(replaced(4, "Thank you, Maria. Let me look at that claim."), agent_name="Maria")
    )
    assert [f.reason for f in found] == ["turn 4 (AGENT): thanks the caller by the agent's own name 'Maria'"]


def test_company_words_are_not_names() -> None:
    turns = replaced(9, "No, that's all. Thanks, Tidewell. Bye.")
    assert not [f for f in role_findings(view(turns)) if f.rule == "name_inconsistency"]


def test_dependants_birth_date_is_not_implausible() -> None:
    turns = replaced(3, "It's for my son, member ID TW48213907, he was born March 22nd, 2019.")
    assert not [f for f in entity_findings(view(turns), TODAY) if f.rule == "implausible_birth_date"]


def test_saying_you_cannot_answer_is_an_answer() -> None:
    turns = replaced(3, "Sorry, I don't have my card with me. I'm Dana Pruitt.")
    assert not [f for f in entity_findings(view(turns), TODAY) if f.rule == "unanswered_request"]


def test_plan_facts_are_enforced() -> None:
    v = view(CLEAN, company="Tidewell Clinics")
    fixed = CallView(turns=v.turns, facts={"member_id": "TW48213900", "date_of_birth": "March 22nd, 1986"})
    found = entity_findings(fixed, TODAY)
    assert {f.rule for f in found} == {"fact_contradiction"}
    assert {f.turn for f in found} == {3, 4}


def test_no_rule_fires_on_any_reference_call() -> None:
    calls = reference_calls()
    assert len(calls) >= 60
    noisy = {c.id: [f.reason for f in findings(c)] for c in calls if findings(c)}
    assert noisy == {}
