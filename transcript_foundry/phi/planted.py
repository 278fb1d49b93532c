"""The identifiers a plan planted (its facts: the caller's name, member ID, date of birth, phone ...) and
where a text still says them, written or spoken ("four one five, five five five ..."): what the scrubber's
recall is measured on, and what must never survive into a delivered transcript."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_SPOKEN = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
)  # fmt: skip
# Identifiers compared by their digits (separators, spaces and spoken digits ignored).
DIGIT_KINDS = frozenset(
    {"member_id", "medical_record_number", "account_number", "order_number", "card_number", "ssn",
     "phone_number", "zip_code", "device_serial", "licence_plate"}
)  # fmt: skip


@dataclass(frozen=True)
class PlantedMention:
    turn: int
    kind: str
    value: str
    form: str  # written | spoken


def _written_digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _spoken_digits(text: str) -> str:
    """Digits said as words, in order ("four one five" -> "415"), runs joined."""
    return "".join(_SPOKEN.get(w, "") for w in re.findall(r"[a-z]+", text.lower()))


def _said(kind: str, value: str, text: str) -> str | None:
    lowered = text.lower()
    if kind in DIGIT_KINDS:
        digits = _written_digits(value)
        if len(digits) < 4:
            return None
        if digits in _written_digits(text):
            return "written"
        return "spoken" if digits in _spoken_digits(text) else None
    if kind == "person_name":
        # As a name is written: "Grace" or "GRACE", not "grace period" (the scrubber matches the same).
        parts = [p for p in re.findall(r"[A-Za-z'’-]+", value) if len(p) > 2]
        hit = any(re.search(rf"\b(?:{re.escape(p)}|{re.escape(p.upper())})\b", text) for p in parts)
        return "written" if hit else None
    if kind == "date_of_birth":
        match = re.match(r"([A-Za-z]+) (\d+), (\d{4})", value)
        if match is None:
            return None
        month, day, year = match.group(1).lower(), match.group(2), match.group(3)
        month_number = str(_MONTHS.index(month) + 1) if month in _MONTHS else ""
        written = year in text and (month in lowered or re.search(rf"\b0?{month_number}[/-]0?{day}\b", text))
        return "written" if written else None
    if kind in ("email_address", "url", "ip_address"):
        return "written" if value.lower() in lowered else None
    if kind == "street_address":
        number, _, street = value.partition(" ")
        hit = re.search(rf"\b{re.escape(number)}\b", text) and street.split()[0].lower() in lowered
        return "written" if hit else None
    return None  # dates of service and ages are ordinary words in a call


def planted_mentions(facts: Mapping[str, str], texts: Sequence[str]) -> list[PlantedMention]:
    """Every turn that says a planted value, with the form it is said in."""
    found = []
    for turn, text in enumerate(texts):
        for kind, value in facts.items():
            form = _said(kind, value, text)
            if form is not None:
                found.append(PlantedMention(turn, kind, value, form))
    return found


def _mention(m: PlantedMention) -> dict[str, Any]:
    return {"turn": m.turn, "kind": m.kind, "form": m.form}


def _texts(record: Mapping[str, Any]) -> list[str]:
    return [str(t.get("text", "")) for t in record.get("turns", [])]


def mentions(facts: Mapping[str, str], record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The planted mentions a record says, each {turn, kind, form}."""
    return [_mention(m) for m in planted_mentions(facts, _texts(record))]


def final_slot_record(
    earlier: Mapping[str, Any] | None,
    raw_drafts: Sequence[Mapping[str, Any]],
    final: Mapping[str, Any],
    facts: Mapping[str, str],
) -> dict[str, list[dict[str, Any]]]:
    """A slot's planted record once the quality loop is done with it: said = what the first raw call said
    plus what each regenerated raw draft said (rewritten turns are model output, planted values and all),
    each mention once; survived = what the delivered (final, scrubbed) text still says."""
    said: list[dict[str, Any]] = []
    for m in [*(earlier or {}).get("said", []), *(m for d in raw_drafts for m in mentions(facts, d))]:
        if m not in said:
            said.append(m)
    return {"said": said, "survived": mentions(facts, final)}


@dataclass
class PlantedRecall:
    """Planted values said in the raw calls, and those still said after scrubbing, by kind and form."""

    said: Counter[str] = field(default_factory=Counter)  # "kind/form" -> mentions in the raw text
    survived: Counter[str] = field(default_factory=Counter)
    survivors: list[dict[str, Any]] = field(default_factory=list)  # id, turn, kind, form

    def add(
        self, facts: Mapping[str, str], raw: Mapping[str, Any], scrubbed: Mapping[str, Any]
    ) -> dict[str, list[dict[str, Any]]]:
        """Count one call; returns its slot record: the planted mentions the raw call said and those the
        scrubbed call still says (each {turn, kind, form}), what the ledger keeps per slot."""
        record = {
            "said": [_mention(m) for m in planted_mentions(facts, _texts(raw))],
            "survived": [_mention(m) for m in planted_mentions(facts, _texts(scrubbed))],
        }
        self.add_slot_record(str(scrubbed.get("id")), record)
        return record

    def add_slot_record(self, transcript_id: str, record: Mapping[str, Any]) -> None:
        """Count a call from its slot record (what ``add`` returned, read back from the ledger)."""
        for m in record.get("said", []):
            self.said[f"{m['kind']}/{m['form']}"] += 1
        for m in record.get("survived", []):
            self.survived[f"{m['kind']}/{m['form']}"] += 1
            self.survivors.append({"id": transcript_id, **m})

    def by(self, part: int) -> dict[str, dict[str, Any]]:
        """Said, survived and recall grouped by kind (part 0) or by form (part 1)."""
        groups: dict[str, dict[str, Any]] = {}
        for key, n in self.said.items():
            group = groups.setdefault(key.split("/")[part], {"said": 0, "survived": 0})
            group["said"] += n
            group["survived"] += self.survived.get(key, 0)
        for group in groups.values():
            group["recall"] = round(1 - group["survived"] / group["said"], 4) if group["said"] else 1.0
        return dict(sorted(groups.items()))

    def recall(self) -> float:
        total = sum(self.said.values())
        return round(1 - sum(self.survived.values()) / total, 4) if total else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "said": dict(sorted(self.said.items())),
            "survived": dict(sorted(self.survived.items())),
            "recall": self.recall(),
            "by_kind": self.by(0),
            "by_form": self.by(1),
            "survivors": self.survivors[:50],
        }
