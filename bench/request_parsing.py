"""How well requests written the way people write them are understood (issue 19), and how fast.

    .venv/bin/python bench/request_parsing.py [--rounds 7]

160+ requests in varied styles across the three built-in packs and a custom banking pack
(tests/transcript_foundry/request/packs/banking.yaml), none of them a test phrasing, plus 25 that must be
refused. Prints, side by side for the rules alone and the rules plus the semantic layer:
field accuracy (count, domain, scenarios, emotional_tone, caller_type of every request that should be
understood; a refused request gets all five wrong), and refusal quality (refused, the message names the
field, and it offers candidates); then the median latency of `transcripts plan` as a user runs it (a
fresh process) for a request the rules settle and for one that needs the semantic layer.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine_description import describe_machine  # noqa: E402  (bench/, the script's folder)

from transcript_foundry.domains.domain_pack import load_domain_pack_file, load_domain_packs  # noqa: E402
from transcript_foundry.request.parser import RequestError, understand_request  # noqa: E402

BANKING = ROOT / "tests" / "transcript_foundry" / "request" / "packs" / "banking.yaml"
TRANSCRIPTS = str(ROOT / ".venv" / "bin" / "transcripts")
FIELDS = ("count", "domain", "scenarios", "emotional_tone", "caller_type")


@dataclass(frozen=True)
class Case:
    text: str
    count: int
    domain: str
    scenarios: list[str] = field(default_factory=list)
    emotional_tone: str | None = None
    caller_type: str | None = None


def c(
    text: str, count: int, domain: str, *scenarios: str, tone: str | None = None, caller: str | None = None
) -> Case:
    return Case(text, count, domain, list(scenarios), tone, caller)


CASES: list[Case] = [
    # ---------------------------------------------------------------- telecom
    c("250 telco calls where the internet keeps going down", 250, "telecom", "service_outage"),
    c("need ~80 convos w/ ISP support, router won't connect", 80, "telecom", "device_support"),
    c(
        "Could I get 120 mobile carrier chats about adding a line to a family plan?",
        120,
        "telecom",
        "plan_change",
    ),
    c(
        "broadband provider, 45 calls, customers furious about their bill",
        45,
        "telecom",
        "billing_dispute",
        tone="angry",
    ),
    c(
        "five hundred cellular dialogues from travellers using data overseas",
        500,
        "telecom",
        "international_roaming",
    ),
    c(
        "60 cable TV recordings — subscribers wanting to cut the cord and cancel",
        60,
        "telecom",
        "cancel_service",
    ),
    c("telecom x 90, calm callers", 90, "telecom", tone="calm"),
    c(
        "Produce 33 wireless conversations from gamers complaining about lag",
        33,
        "telecom",
        caller="tech_savvy",
    ),
    c("A dozen phone company calls from pensioners", 12, "telecom", caller="elderly"),
    c("40 ISP chats from undergrads on a tight budget", 40, "telecom", caller="student"),
    c(
        "Seventy cell phone calls, people confused by the new plan pricing",
        70,
        "telecom",
        "plan_change",
        tone="confused",
    ),
    c("3.5k internet provider transcripts", 3500, "telecom"),
    c(
        "Give me 150 fiber broadband calls where nothing works after the storm",
        150,
        "telecom",
        "service_outage",
    ),
    c(
        "Please simulate 20 mobile network calls from owners of small firms whose lines are dead",
        20,
        "telecom",
        caller="business",
    ),
    c("80 telco recordings, satisfied customers thanking the agent", 80, "telecom", tone="satisfied"),
    c(
        "100 conversations with an internet service provider about slow wifi",
        100,
        "telecom",
        "device_support",
    ),
    c("How about 64 carrier calls about port-out requests", 64, "telecom", "cancel_service"),
    c("telecom: 25 short calls from impatient subscribers", 25, "telecom", tone="impatient"),
    c(
        "mobile operator calls, 300, anxious travellers worried about roaming bills abroad",
        300,
        "telecom",
        "international_roaming",
        "billing_dispute",
        tone="anxious",
    ),
    c("18 long cable company calls about a technician no-show", 18, "telecom"),
    c("Write 55 telco dialogues: customers leaving for a rival network", 55, "telecom", "cancel_service"),
    c("couple hundred calls to the wireless carrier re: unexpected fees", 200, "telecom", "billing_dispute"),
    c(
        "75 home internet conversations, sad customers who have to cancel after moving",
        75,
        "telecom",
        "cancel_service",
        tone="sad",
    ),
    c(
        "35 telco chats where grandparents can't set up their new smartphone",
        35,
        "telecom",
        "device_support",
        caller="elderly",
    ),
    c("I'd like 400 ISP transcripts, mixed tones", 400, "telecom"),
    c("42 network outage calls to a mobile carrier", 42, "telecom", "service_outage"),
    c("Thirty calls for a cellular provider, neutral tone", 30, "telecom", tone="neutral"),
    c("200 telecom interactions, upgrade to a newer handset", 200, "telecom", "plan_change"),
    c(
        "11 cable calls from irate business accounts during an outage",
        11,
        "telecom",
        "service_outage",
        tone="angry",
        caller="business",
    ),
    c("Generate ninety broadband chats about moving to a cheaper package", 90, "telecom", "plan_change"),
    c("We want 48 satellite TV calls, dish stopped working", 48, "telecom"),
    c("17 telco convos — prepaid top-up questions from students", 17, "telecom", caller="student"),
    c(
        "Quick batch: 26 mobile calls about a stolen phone and a replacement SIM",
        26,
        "telecom",
        "device_support",
    ),
    c(
        "Need something like 140 broadband recordings from remote workers whose connection keeps dropping",
        140,
        "telecom",
        "service_outage",
    ),
    c(
        "phone company, sixty-five calls, elderly subscribers confused about their bill",
        65,
        "telecom",
        "billing_dispute",
        tone="confused",
        caller="elderly",
    ),
    c(
        "Draft 38 carrier chats about international calling to family abroad",
        38,
        "telecom",
        "international_roaming",
    ),
    c(
        "13 internet provider calls from tech-savvy customers who already rebooted the modem",
        13,
        "telecom",
        "device_support",
        caller="tech_savvy",
    ),
    # ---------------------------------------------------------------- healthcare
    c(
        "300 clinic calls from people trying to see a doctor this week",
        300,
        "healthcare",
        "appointment_scheduling",
    ),
    c("need 45 health plan calls about why a claim got rejected", 45, "healthcare", "claim_status"),
    c("Medicaid member calls, 60, asking what their plan covers", 60, "healthcare", "coverage_question"),
    c(
        "25 hospital billing calls from annoyed patients",
        25,
        "healthcare",
        "billing_dispute",
        tone="frustrated",
    ),
    c(
        "A hundred and fifty medical chats about refilling blood pressure pills",
        150,
        "healthcare",
        "prescription_refill",
    ),
    c("80 doctor's office recordings, patients waiting on bloodwork", 80, "healthcare", "lab_results"),
    c("health insurance x 200, elderly members", 200, "healthcare", caller="elderly"),
    c(
        "12 clinic dialogues from daughters calling for an ageing parent",
        12,
        "healthcare",
        caller="caregiver",
    ),
    c(
        "Make 44 medical conversations with people new to the practice",
        44,
        "healthcare",
        caller="new_patient",
    ),
    c(
        "15 urgent care calls from office workers on a lunch break wanting a quick slot",
        15,
        "healthcare",
        "appointment_scheduling",
        caller="busy_professional",
    ),
    c("nurse line calls, 500, worried parents", 500, "healthcare", tone="anxious"),
    c("Generate 2k patient calls", 2000, "healthcare"),
    c(
        "70 health insurer chats: members puzzled by the explanation of benefits",
        70,
        "healthcare",
        "claim_status",
        tone="confused",
    ),
    c("How about 40 HMO calls about an out-of-network specialist", 40, "healthcare", "coverage_question"),
    c(
        "30 grieving family members calling the hospital about a final bill",
        30,
        "healthcare",
        "billing_dispute",
        tone="sad",
        caller="caregiver",
    ),
    c(
        "Produce 18 calm healthcare calls about booking a physical",
        18,
        "healthcare",
        "appointment_scheduling",
        tone="calm",
    ),
    c("250 physician practice calls, mixed emotions", 250, "healthcare"),
    c(
        "Thirty-six medical calls from happy patients after their test results came back fine",
        36,
        "healthcare",
        "lab_results",
        tone="satisfied",
    ),
    c("8 health plan recordings from seniors on Medicare", 8, "healthcare", caller="elderly"),
    c(
        "Write 120 clinic calls where the pharmacy never got the prescription",
        120,
        "healthcare",
        "prescription_refill",
    ),
    c("60 Medicare calls about signing up during open enrollment", 60, "healthcare", "coverage_question"),
    c(
        "Need 22 impatient busy professionals calling a clinic to reschedule",
        22,
        "healthcare",
        "appointment_scheduling",
        tone="impatient",
        caller="busy_professional",
    ),
    c("90 hospital dialogues — patients disputing a surprise charge", 90, "healthcare", "billing_dispute"),
    c("health care calls x 75 with neutral callers", 75, "healthcare", tone="neutral"),
    c(
        "a few hundred doctor calls about reimbursement of out of pocket costs",
        300,
        "healthcare",
        "claim_status",
    ),
    c("fifty telehealth clinic conversations about lab work", 50, "healthcare", "lab_results"),
    c(
        "140 medical insurance chats, furious members whose claims were denied",
        140,
        "healthcare",
        "claim_status",
        tone="angry",
    ),
    c(
        "Give me 16 clinic calls from caregivers asking about a parent's medication",
        16,
        "healthcare",
        "prescription_refill",
        caller="caregiver",
    ),
    c(
        "33 physician calls, patients unsure whether physiotherapy is covered",
        33,
        "healthcare",
        "coverage_question",
        tone="confused",
    ),
    c("1,200 healthcare interactions", 1200, "healthcare"),
    c(
        "We need 95 clinic calls, moms booking vaccinations for their kids",
        95,
        "healthcare",
        "appointment_scheduling",
    ),
    c(
        "Can you make 28 health plan chats about prior authorization for an MRI",
        28,
        "healthcare",
        "coverage_question",
    ),
    c(
        "medical office recordings x 52, patients asking for copies of their scan results",
        52,
        "healthcare",
        "lab_results",
    ),
    c(
        "19 pharmacy refill calls to a health insurer from impatient members",
        19,
        "healthcare",
        "prescription_refill",
        tone="impatient",
    ),
    c("Draft 64 hospital calls from relieved, grateful patients", 64, "healthcare", tone="satisfied"),
    c(
        "health insurance conversations: 230, members questioning a copay on their statement",
        230,
        "healthcare",
        "billing_dispute",
    ),
    # ---------------------------------------------------------------- retail
    c("Need 35 shoppers calling because their sofa never showed up", 35, "retail", "order_status"),
    c("120 online store chats about sending back shoes that don't fit", 120, "retail", "return_refund"),
    c("webshop calls x 60: the blender arrived cracked", 60, "retail", "damaged_item"),
    c("ecommerce recordings, 45, card got declined at checkout", 45, "retail", "payment_issue"),
    c("Can I get 80 retail calls asking if a jacket is back in stock?", 80, "retail", "product_inquiry"),
    c(
        "30 online shop conversations, customers want to cancel an order placed by mistake",
        30,
        "retail",
        "cancel_order",
    ),
    c("200 furniture store calls from angry buyers", 200, "retail", tone="angry"),
    c("a couple thousand electronics shop chats", 2000, "retail"),
    c("Produce 24 marketplace calls from first-time buyers", 24, "retail", caller="first_time"),
    c(
        "70 webshop dialogues from rewards members who order every month",
        70,
        "retail",
        caller="loyal_customer",
    ),
    c("15 e-commerce calls from office managers ordering supplies in bulk", 15, "retail", caller="business"),
    c(
        "25 online store calls from older shoppers who hate tracking links",
        25,
        "retail",
        "order_status",
        caller="elderly",
    ),
    c("one hundred retail calls, pleased customers", 100, "retail", tone="satisfied"),
    c(
        "50 clothing store chats, people confused about sizing",
        50,
        "retail",
        "product_inquiry",
        tone="confused",
    ),
    c("99 shop calls about a parcel stuck in transit for weeks", 99, "retail", "order_status"),
    c("12 retail conversations about a refund that never arrived", 12, "retail", "return_refund"),
    c(
        "Generate 400 home goods calls, mixed tones, about damaged deliveries",
        400,
        "retail",
        "damaged_item",
        "order_status",
    ),
    c("supermarket delivery chats, 65, impatient customers", 65, "retail", "order_status", tone="impatient"),
    c("8 online shopping calls where the customer was charged twice", 8, "retail", "payment_issue"),
    c("Write 140 retail recordings from calm customers", 140, "retail", tone="calm"),
    c(
        "a dozen apparel store calls from anxious shoppers whose payment failed",
        12,
        "retail",
        "payment_issue",
        tone="anxious",
    ),
    c("Twenty fashion brand chats about exchanging a dress", 20, "retail", "return_refund"),
    c("55 webshop calls, sad customers returning a gift", 55, "retail", "return_refund", tone="sad"),
    c("300 e-commerce dialogues", 300, "retail"),
    c("retail: 45 neutral calls about stock levels", 45, "retail", "product_inquiry", tone="neutral"),
    c(
        "How about 90 online store chats from frustrated shoppers about a late package",
        90,
        "retail",
        "order_status",
        tone="frustrated",
    ),
    c("6 department store calls: missing parts in a flat-pack wardrobe", 6, "retail", "damaged_item"),
    c("3k ecommerce chats", 3000, "retail"),
    c(
        "27 online retailer calls from loyal customers wanting to cancel",
        27,
        "retail",
        "cancel_order",
        caller="loyal_customer",
    ),
    c(
        "75 shop recordings from first time customers asking about availability",
        75,
        "retail",
        "product_inquiry",
        caller="first_time",
    ),
    c(
        "We need 85 online shop calls about a promo code that wasn't applied at checkout",
        85,
        "retail",
        "payment_issue",
    ),
    c("Draft 31 webshop chats: wrong colour delivered, want to swap it", 31, "retail"),
    c(
        "e-commerce, 210 conversations, parcels marked delivered but never received",
        210,
        "retail",
        "order_status",
    ),
    c("Quick set of 14 clothing store calls from polite shoppers", 14, "retail", tone="calm"),
    c("38 marketplace dialogues about a seller refusing a refund", 38, "retail", "return_refund"),
    c(
        "roughly 160 online retailer calls asking when a sold-out lamp gets restocked",
        160,
        "retail",
        "product_inquiry",
    ),
    # ---------------------------------------------------------------- banking (custom pack), scenario words only
    c("120 calls about overdraft charges", 120, "banking", "overdraft_fee"),
    c("Need 40 chats from people whose debit card was stolen", 40, "banking", "card_lost_stolen"),
    c("60 conversations about wire transfers that never arrived", 60, "banking", "wire_transfer"),
    c("mortgage calls, 80, homeowners asking about escrow", 80, "banking", "mortgage_payment"),
    c("25 calls about a suspicious charge on a credit card", 25, "banking", "fraud_alert"),
    c("18 frightened callers reporting fraud on their account", 18, "banking", "fraud_alert", tone="anxious"),
    c("Generate 50 home loan dialogues", 50, "banking", "mortgage_payment"),
    c("a few hundred lost card calls", 300, "banking", "card_lost_stolen"),
    c("35 angry recordings about being overdrawn", 35, "banking", "overdraft_fee", tone="angry"),
    c(
        "Produce 22 calls from sole traders sending an international transfer",
        22,
        "banking",
        "wire_transfer",
        caller="business",
    ),
    c(
        "15 calls from retirees who want to freeze their card",
        15,
        "banking",
        "card_lost_stolen",
        caller="elderly",
    ),
    c("90 conversations about an unauthorized transaction", 90, "banking", "fraud_alert"),
    c("two dozen calls about insufficient funds fees", 24, "banking", "overdraft_fee"),
    c("70 chats: customers asking for a replacement card", 70, "banking", "card_lost_stolen"),
    c("Write 10 neobank calls", 10, "banking"),
    c("30 credit union conversations about a mortgage payment", 30, "banking", "mortgage_payment"),
    c(
        "45 calls, someone emptied my checking account with charges I never made",
        45,
        "banking",
        "fraud_alert",
    ),
    c("55 calm calls about a SWIFT payment", 55, "banking", "wire_transfer", tone="calm"),
    c("100 building society recordings", 100, "banking"),
    c("12 calls about my wallet being stolen with all my cards", 12, "banking", "card_lost_stolen"),
    c("Need 65 escrow shortage calls", 65, "banking", "mortgage_payment"),
    c(
        "28 conversations about an overdraft on a checking account, anxious callers",
        28,
        "banking",
        "overdraft_fee",
        tone="anxious",
    ),
    c("Draft 47 calls where a wire to another country is stuck", 47, "banking", "wire_transfer"),
    c(
        "90 fraud alert chats from confused pensioners",
        90,
        "banking",
        "fraud_alert",
        tone="confused",
        caller="elderly",
    ),
    c("a dozen stolen card recordings", 12, "banking", "card_lost_stolen"),
    c("110 conversations, homeowners behind on their mortgage", 110, "banking", "mortgage_payment"),
]

REFUSALS: list[tuple[str, str]] = [
    ("Write me a poem about the sea", "request"),
    ("hi there", "request"),
    ("what's the weather like tomorrow", "request"),
    ("order a pizza", "request"),
    ("telecom calls please", "count"),
    ("lots of angry healthcare chats", "count"),
    ("between 20 and 40 retail calls", "count"),
    ("0 telco chats", "count"),
    ("ten million clinic recordings", "count"),
    ("80 calls", "domain"),
    ("Generate 60 airline calls about lost luggage", "domain"),
    ("45 hotel reservation conversations", "domain"),
    ("30 car dealership calls", "domain"),
    ("120 calls for an electricity provider about a power cut", "domain"),
    ("200 recordings for a restaurant", "domain"),
    ("50 calls about university admissions", "domain"),
    ("25 transcripts about stuff", "domain"),
    ("75 calls about cancelling", "domain"),
    ("100 chats for a hospital and a webshop", "domain"),
    ("40 telco calls from angry and delighted callers", "emotional_tone"),
    ("30 short and escalated retail calls", "complexity"),
    ("50 retail calls from teenagers who are students", "caller_type"),
    ("60 healthcare chats in German", "language"),
    ("70 telecom calls with seed 1 and seed 9", "seed"),
    ("15 retail calls, quality threshold 250%", "quality_threshold"),
    ("20 clinic calls with 3-4-5 turns and 12 turns", "exchanges"),
]

CANDIDATE_WORDS = (
    "Did you mean",
    "e.g.",
    "choose one of",
    "known domains are",
    "its caller types are",
    "use ",
)


@dataclass
class Score:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += ok
        self.total += 1

    def __str__(self) -> str:
        return f"{self.right / self.total:.3f} ({self.right}/{self.total})" if self.total else "-"


def _got(spec: Any, name: str) -> Any:
    return getattr(spec, name)


def accuracy(packs: dict[str, Any], semantic: bool) -> tuple[dict[str, Score], list[str]]:
    scores: dict[str, Score] = {}
    misses: list[str] = []
    for case in CASES:
        try:
            spec = understand_request(case.text, packs, semantic=semantic).spec
        except RequestError as exc:
            spec, why = None, str(exc).splitlines()[0][:110]
        for name in FIELDS:
            ok = spec is not None and _got(spec, name) == getattr(case, name)
            for key in (case.domain, "all"):
                scores.setdefault(key, Score()).add(ok)
            if ok or not semantic or (spec is None and name != FIELDS[0]):
                continue
            if spec is None:
                misses.append(f"{case.text!r}: refused: {why}")
            else:
                misses.append(
                    f"{case.text!r}: {name} expected {getattr(case, name)!r}, got {_got(spec, name)!r}"
                )
    return scores, misses


def refusals(packs: dict[str, Any], semantic: bool) -> tuple[Score, Score, Score, list[str]]:
    refused, named, offered = Score(), Score(), Score()
    misses: list[str] = []
    for text, field_name in REFUSALS:
        try:
            understand_request(text, packs, semantic=semantic)
            message = ""
        except RequestError as exc:
            message = str(exc)
        refused.add(bool(message))
        named.add(field_name in message)
        offered.add(any(w in message for w in CANDIDATE_WORDS))
        if semantic and not (
            message and field_name in message and any(w in message for w in CANDIDATE_WORDS)
        ):
            misses.append(f"{text!r}: expected a refusal naming {field_name}, got {message[:140]!r}")
    return refused, named, offered, misses


def plan_latency(request: str, rounds: int, domains_dir: Path) -> float:
    argv = [TRANSCRIPTS, "plan", request, "--domains-dir", str(domains_dir)]
    subprocess.run(argv, capture_output=True, cwd=ROOT)  # warm the page cache and the embedding cache
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--misses", action="store_true", help="List every miss of the semantic parser.")
    args = parser.parse_args()
    packs = {**load_domain_packs(), "banking": load_domain_pack_file(BANKING)}
    print(describe_machine("numpy", "click"))
    print(
        f"{len(CASES)} requests to understand ({', '.join(f'{d} {sum(x.domain == d for x in CASES)}' for d in sorted(packs))}), {len(REFUSALS)} to refuse\n"
    )

    rules, _ = accuracy(packs, semantic=False)
    both, misses = accuracy(packs, semantic=True)
    print("| field accuracy (count, domain, scenarios, tone, caller type) | rules only | rules + semantic |")
    print("|---|---:|---:|")
    for key in [*sorted(packs), "all"]:
        print(f"| {key} | {rules[key]} | {both[key]} |")
    r_rules = refusals(packs, semantic=False)
    r_both = refusals(packs, semantic=True)
    print("\n| refusals | rules only | rules + semantic |")
    print("|---|---:|---:|")
    for i, label in enumerate(("refused", "names the field", "offers candidates or a fix")):
        print(f"| {label} | {r_rules[i]} | {r_both[i]} |")

    settled = "Generate 50 healthcare transcripts with frustrated callers"
    by_meaning = "3 thousand ISP outage calls, customers fed up"
    print(f"\n| `transcripts plan` (fresh process, median of {args.rounds}) | seconds |")
    print("|---|---:|")
    print(f"| rules settle it: {settled!r} | {plan_latency(settled, args.rounds, BANKING.parent):.3f} |")
    print(
        f"| needs the semantic layer: {by_meaning!r} | {plan_latency(by_meaning, args.rounds, BANKING.parent):.3f} |"
    )
    if args.misses or misses or r_both[3]:
        print("\nmisses:")
        for line in [*misses, *r_both[3]]:
            print(f"  {line}")


if __name__ == "__main__":
    main()
