"""The facts a call is about, fixed before a word is written: the caller's name and one value for each of
the scenario's ``phi_slots`` (member ID, date of birth, address, order number ...).

A small base model asked to "give the member ID" invents one, and then another; asked to say "member ID
EVH-48213907" it paraphrases a sound skeleton instead. The values are synthetic (fictional 555-01xx phone
numbers, example.com e-mail addresses, name lists written here) and a pure function of the slot's seed, so
a resumed request plans the same facts. The PHI scrubber replaces them in the delivered transcripts.
"""

from __future__ import annotations

import random
import re

FIRST_NAMES: tuple[str, ...] = (
    "Alicia", "Marcus", "Priya", "Daniel", "Mei", "Robert", "Fatima", "Jonah", "Carmen", "Samuel", "Grace",
    "Tomás", "Aisha", "Henry", "Lucia", "Kenji", "Nadia", "Owen", "Rosa", "Victor", "Hannah", "Ibrahim",
    "Chloe", "Dmitri", "Evelyn", "Julian", "Keisha", "Leon", "Margaret", "Arjun",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Alvarez", "Bennett", "Chen", "Douglas", "Okafor", "Fischer", "Gupta", "Hughes", "Ivanova", "Jensen",
    "Kowalski", "Lindqvist", "Moreno", "Nguyen", "O'Brien", "Patel", "Quinn", "Rossi", "Sato", "Thompson",
    "Underwood", "Vasquez", "Whitaker", "Yamada", "Zhang", "Harper", "Mensah", "Costa", "Brennan", "Novak",
)  # fmt: skip
STREETS: tuple[str, ...] = (
    "Maple Street", "Oak Avenue", "Cedar Lane", "Birch Road", "Harbor Drive", "Hillcrest Court",
    "Willow Way", "Lakeview Terrace", "Pine Street", "Sunset Boulevard",
)  # fmt: skip
MONTHS: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip

# How a fact is named in a beat label and in speech.
FACT_LABELS: dict[str, str] = {
    "person_name": "name",
    "date_of_birth": "date of birth",
    "date": "date",
    "phone_number": "phone number",
    "email_address": "email address",
    "street_address": "address",
    "zip_code": "ZIP code",
    "member_id": "member ID",
    "medical_record_number": "medical record number",
    "account_number": "account number",
    "order_number": "order number",
    "card_number": "card ending",
    "ssn": "last four of the social security number",
    "ip_address": "IP address",
    "url": "web address",
    "device_serial": "serial number",
    "licence_plate": "licence plate",
    "age": "age",
}
# Words in a beat that ask for (or give) a fact of that kind (regular expressions).
_BEAT_WORDS: dict[str, tuple[str, ...]] = {
    "person_name": ("name",),
    "date_of_birth": ("date of birth", "birth date", "birthday", "dob"),
    "date": ("date(?! of birth)", "appointment", "date of service"),
    "phone_number": ("phone", "number to reach", "callback"),
    "email_address": ("email", "e-mail"),
    "street_address": ("(?<!email )(?<!e-mail )address", "street"),
    "zip_code": ("zip", "postal"),
    "member_id": ("member id", "member number", "id card", "policy number"),
    "medical_record_number": ("medical record", "mrn"),
    "account_number": ("account number", "account id"),
    "order_number": ("order number", "order id", "confirmation number"),
    "card_number": ("card number", "last four digits of the card", "card ending"),
    "ssn": ("social security", "ssn"),
    "ip_address": ("ip address",),
    "url": ("website", "link", "url"),
    "device_serial": ("serial",),
    "licence_plate": ("plate", "licence", "license"),
    "age": ("their age", "how old"),
}


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def fact_value(kind: str, rng: random.Random, customer_name: str) -> str:
    first, _, last = customer_name.partition(" ")
    letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
    values = {
        "person_name": customer_name,
        "date_of_birth": f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(1941, 1999)}",
        "date": f"{rng.choice(MONTHS)} {rng.randint(1, 28)}",
        "phone_number": f"({rng.randint(201, 989)}) 555-01{_digits(rng, 2)}",
        "email_address": f"{first.lower()}.{re.sub(r'[^a-z]', '', last.lower())}@example.com",
        "street_address": f"{rng.randint(12, 9876)} {rng.choice(STREETS)}",
        "zip_code": _digits(rng, 5),
        "member_id": f"{letters}-{_digits(rng, 8)}",
        "medical_record_number": f"MRN-{_digits(rng, 7)}",
        "account_number": _digits(rng, 10),
        "order_number": f"{letters[:2]}-{_digits(rng, 7)}",
        "card_number": _digits(rng, 4),
        "ssn": _digits(rng, 4),
        "ip_address": f"192.0.2.{rng.randint(2, 254)}",
        "url": f"www.example.com/{letters.lower()}{_digits(rng, 3)}",
        "device_serial": f"SN{_digits(rng, 9)}",
        "licence_plate": f"{letters}-{_digits(rng, 4)}",
        "age": str(rng.randint(91, 99)) if rng.random() < 0.2 else str(rng.randint(25, 80)),
    }
    return values[kind]


def caller_name(rng: random.Random, avoid: frozenset[str] = frozenset()) -> str:
    """A caller's full name sharing no word with ``avoid`` (lower-cased): a caller called Marcus on a call
    with an agent called Marcus would make the agent's own name read as the caller's identifier."""
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if first.lower() not in avoid and last.lower() not in avoid:
            return f"{first} {last}"


def plan_facts(
    phi_slots: list[str], rng: random.Random, avoid: frozenset[str] = frozenset()
) -> tuple[str, dict[str, str]]:
    """(the caller's full name, {phi kind: value}) for a scenario's ``phi_slots``; the name shares no word
    with ``avoid`` (the agent's name and the company's)."""
    name = caller_name(rng, avoid)
    facts = {"person_name": name}
    for kind in phi_slots:
        if kind in FACT_LABELS and kind not in facts:
            facts[kind] = fact_value(kind, rng, name)
    return name, facts


def facts_for_beat(beat: str, facts: dict[str, str]) -> dict[str, str]:
    """The facts a beat asks the speaker to give (its words name them), in the plan's order."""
    text = beat.lower()
    return {
        kind: value
        for kind, value in facts.items()
        if any(re.search(rf"\b{w}\b", text) for w in _BEAT_WORDS.get(kind, ()))
    }


def stated(facts: dict[str, str]) -> str:
    """``member ID EVH-48213907, date of birth March 4, 1961`` for a beat label."""
    return "; ".join(f"{FACT_LABELS[k]} {v}" for k, v in facts.items())
