"""The kinds of identifier the scrubber finds, which mode covers which, and how overlaps are decided."""

from __future__ import annotations

from typing import Literal

Mode = Literal["hipaa", "pii"]
Replacement = Literal["surrogate", "mask"]
MODES: tuple[Mode, ...] = ("hipaa", "pii")
REPLACEMENTS: tuple[Replacement, ...] = ("surrogate", "mask")

# Order = priority when two detections overlap: the more specific kind names the merged span.
KINDS: tuple[str, ...] = (
    "SSN",
    "CARD",
    "EMAIL",
    "URL",
    "IP",
    "MRN",
    "MEMBER_ID",
    "ACCOUNT",
    "LICENSE",
    "PLATE",
    "DEVICE",
    "PHONE",
    "DOB",
    "DATE",
    "AGE",
    "ADDRESS",
    "ZIP",
    "CITY",
    "NAME",
    "ID",
)
PRIORITY: dict[str, int] = {kind: rank for rank, kind in enumerate(KINDS)}

KIND_DESCRIPTIONS: dict[str, str] = {
    "SSN": "social security number (or its last four)",
    "CARD": "payment card number, last four, expiry or security code",
    "EMAIL": "e-mail address (written or spoken: 'j smith at gmail dot com')",
    "URL": "web address",
    "IP": "IP address",
    "MRN": "medical record / chart / patient number",
    "MEMBER_ID": "health-plan member, subscriber, beneficiary, policy or group number",
    "ACCOUNT": "account / customer / billing number",
    "LICENSE": "driver's licence, certificate or other licence number",
    "PLATE": "vehicle licence plate or VIN",
    "DEVICE": "device serial number, IMEI, MAC address",
    "PHONE": "phone or fax number",
    "DOB": "date of birth",
    "DATE": "any other date with a day or month (a year alone is kept)",
    "AGE": "age over 89",
    "ADDRESS": "street address, PO box, apartment",
    "ZIP": "ZIP code",
    "CITY": "city, town or other place smaller than a state",
    "NAME": "person's name (said, spelled out, or after a title)",
    "ID": "any other unique identifying number (order, claim, case, reference ...)",
}

# HIPAA Safe Harbor: every identifier that can be spoken. PII: the identifiers outside healthcare.
MODE_KINDS: dict[Mode, frozenset[str]] = {
    "hipaa": frozenset(KINDS),
    "pii": frozenset(
        {"NAME", "PHONE", "EMAIL", "ADDRESS", "CITY", "ZIP", "CARD", "SSN", "ACCOUNT", "DOB", "IP", "URL"}
        | {"DEVICE", "LICENSE", "ID"}
    ),
}

# Presidio's built-in entity names → our kinds (the recognizers added here report our kinds directly).
PRESIDIO_KINDS: dict[str, str] = {
    "PERSON": "NAME",
    "LOCATION": "CITY",
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "URL": "URL",
    "IP_ADDRESS": "IP",
    "US_SSN": "SSN",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "ACCOUNT",
}

HEALTHCARE_DOMAINS = frozenset({"healthcare"})


def mode_for_domain(domain: str | None) -> Mode:
    """HIPAA for healthcare transcripts, PII for every other domain."""
    return "hipaa" if (domain or "").lower() in HEALTHCARE_DOMAINS else "pii"


def mask_for(kind: str) -> str:
    return f"[{kind}]"


def analyzer_entities(kinds: frozenset[str]) -> list[str]:
    """The entity names to ask Presidio for: our kinds plus the built-in names that map onto them."""
    return sorted(kinds | {name for name, kind in PRESIDIO_KINDS.items() if kind in kinds})
