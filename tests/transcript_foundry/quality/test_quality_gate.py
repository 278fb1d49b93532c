from __future__ import annotations

from transcript_foundry.contract.transcript import GenerationInfo, Transcript, Turn
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.quality.gate import CHECKS, assess

GOOD = [
    ("AGENT", "Thank you for calling Evergreen Health Plan, this is Maria. How can I help you today?"),
    (
        "CUSTOMER",
        "Hi. I got a bill for my March visit and I was charged twice. This is the second time, seriously.",
    ),
    ("AGENT", "I'm sorry about that. Can I have your member ID and date of birth to pull up the claim?"),
    ("CUSTOMER", "It's H48213907, June third 1962. I'm really fed up with this."),
    ("AGENT", "Thank you. I see the claim was submitted twice, so the copay was billed two times."),
    ("CUSTOMER", "So what are you going to do about it? I'm not paying twice."),
    ("AGENT", "I'm voiding the duplicate claim now; a corrected statement arrives within ten business days."),
    ("CUSTOMER", "Fine. I hope it actually gets fixed this time. Thanks, bye."),
    ("AGENT", "It will. Thank you for calling Evergreen Health Plan, have a good day."),
]


def _transcript(
    turns: list[tuple[str, str]], tone: str | None = "frustrated", scenario: str = "billing_dispute"
) -> Transcript:
    return Transcript(
        id="r-000001",
        request_id="r",
        domain="healthcare",
        scenario=scenario,
        emotional_tone=tone,
        complexity="simple",
        turns=[Turn(speaker=s, text=t) for s, t in turns],  # type: ignore[arg-type]
        generation=GenerationInfo(node_id="test", model="hand-written", strategy="turn_by_turn"),
    )


def test_a_good_call_passes_with_every_check_full(packs: dict[str, DomainPack]) -> None:
    report = assess(_transcript(GOOD), packs["healthcare"], (8, 14), 0.85)
    assert report.passed, report.reasons
    assert report.checks == {k: 1.0 for k in CHECKS}
    assert report.overall == 1.0


def test_turn_count_outside_the_bounds_is_a_hard_failure(packs: dict[str, DomainPack]) -> None:
    report = assess(_transcript(GOOD), packs["healthcare"], (10, 14), 0.5)
    assert not report.passed
    assert any("9 turns, outside the requested 10-14" in r for r in report.reasons)


def test_speakers_not_alternating_fail(packs: dict[str, DomainPack]) -> None:
    turns = [(("AGENT" if i < 5 else "CUSTOMER"), t) for i, (_, t) in enumerate(GOOD)]
    report = assess(_transcript(turns), packs["healthcare"], (8, 14), 0.5)
    assert not report.passed
    assert any("alternate" in r for r in report.reasons)


def test_a_looping_call_fails(packs: dict[str, DomainPack]) -> None:
    turns = list(GOOD)
    turns[6] = (
        "AGENT",
        "Thank you. I see the claim was submitted twice, so the copay was billed two times now.",
    )
    report = assess(_transcript(turns), packs["healthcare"], (8, 14), 0.5)
    assert not report.passed
    assert any("loop" in r for r in report.reasons)


def test_off_domain_call_loses_the_domain_score(packs: dict[str, DomainPack]) -> None:
    turns = [
        ("AGENT", "Hello, this is Sam. How can I help you?"),
        ("CUSTOMER", "Why is my pizza so late? I ordered an hour ago, this is ridiculous."),
        ("AGENT", "Let me look at the kitchen queue for you right now."),
        ("CUSTOMER", "I'm still waiting. Seriously, come on."),
        ("AGENT", "It's on the way, the driver left five minutes ago."),
        ("CUSTOMER", "Fine, thanks. Bye."),
        ("AGENT", "Thank you, have a good evening."),
        ("CUSTOMER", "You too, bye."),
    ]
    report = assess(_transcript(turns), packs["healthcare"], (8, 14), 0.85)
    assert report.checks["domain_terms"] == 0.0
    assert not report.passed
    assert any("domain term" in r for r in report.reasons)


def test_tone_cues_are_looked_for_in_customer_turns(packs: dict[str, DomainPack]) -> None:
    calm_words = [
        (s, t.replace("seriously", "").replace("really fed up with this", "all set")) for s, t in GOOD
    ]
    calm_words[5] = ("CUSTOMER", "Okay. What happens next?")
    calm_words[7] = ("CUSTOMER", "Okay. Bye.")
    frustrated = assess(_transcript(calm_words, tone="frustrated"), packs["healthcare"], (8, 14), 0.85)
    neutral = assess(_transcript(calm_words, tone="neutral"), packs["healthcare"], (8, 14), 0.85)
    assert frustrated.checks["tone"] < 1.0
    assert neutral.checks["tone"] == 1.0
    assert any("frustrated caller" in r for r in frustrated.reasons)


def test_missing_greeting_and_closing(packs: dict[str, DomainPack]) -> None:
    turns = list(GOOD)
    turns[0] = ("AGENT", "Your member ID please.")
    turns[-1] = ("AGENT", "The duplicate claim is void now.")
    turns[-2] = ("CUSTOMER", "Fine. I hope it actually gets fixed.")
    report = assess(_transcript(turns), packs["healthcare"], (8, 14), 0.85)
    assert report.checks["opening_closing"] == 0.0
    assert any("greeting" in r for r in report.reasons)


def test_short_word_hi_does_not_count_inside_other_words(packs: dict[str, DomainPack]) -> None:
    turns = list(GOOD)
    turns[0] = ("AGENT", "His claim was the third one this month.")
    report = assess(_transcript(turns), packs["healthcare"], (8, 14), 0.85)
    assert report.checks["opening_closing"] == 0.5
