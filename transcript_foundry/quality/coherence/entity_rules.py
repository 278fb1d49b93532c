"""Entity consistency: what a call states once must not change later, and what is asked for gets answered.

Rules (each a feature of the discriminator; each finding names the turn):

- ``identifier_contradiction``: an identifier restated with a near miss (one or two characters changed or
  swapped: ``BP48213907`` then ``BP48213970``), or the member ID / policy number given twice differently;
- ``amount_contradiction``: an amount restated with one digit changed or two digits swapped;
- ``date_contradiction``: a full date restated with its day, month or year changed, or two dates of birth;
- ``implausible_birth_date``: a caller's date of birth in the future or in the last 16 years (dependants
  named in the turn or in the question it answers are exempt);
- ``unanswered_request``: the agent asks for an identifier or a date of birth, and the caller's next two
  turns give none (and do not say they cannot);
- ``fact_contradiction``: a value the plan fixed (``CallView.facts``) stated differently in the call.
"""

from __future__ import annotations

import re
from datetime import date

from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.entities import (
    DATE_PATTERNS,
    LABEL_PATTERNS,
    Mention,
    call_mentions,
    normalise_identifier,
    parse_date,
)
from transcript_foundry.quality.coherence.findings import Finding

ENTITY_RULES: tuple[str, ...] = (
    "identifier_contradiction",
    "amount_contradiction",
    "date_contradiction",
    "implausible_birth_date",
    "unanswered_request",
    "fact_contradiction",
)
# Identities that cannot change within one call (a new order or claim number legitimately can).
STABLE_LABELS: frozenset[str] = frozenset({"member_id", "policy_number"})
ADULT_AGE = 16
_ASKABLE: frozenset[str] = frozenset(
    {
        "member_id",
        "policy_number",
        "account_number",
        "order_number",
        "claim_number",
        "loan_number",
        "date_of_birth",
        "phone_number",
        "zip_code",
        "pin",
        "card_last4",
    }
)
_ASK = re.compile(
    r"\b(?:(?:can|could|may) i (?:have|get|grab|ask for|confirm)|what(?:'s| is| was) (?:your|the)|do you have"
    r"|(?:can|could|would) you (?:give|tell|read|confirm|provide|spell|verify)|please (?:give|confirm|provide|verify)"
    r"|(?:confirm|verify) (?:your|the)|i(?:'ll| will) need (?:your|the))\b",
    re.IGNORECASE,
)
_CANNOT = re.compile(
    r"\b(?:don'?t|do not|doesn'?t|didn'?t) (?:have|know|remember)|can'?t (?:find|remember)|not sure|no idea|lost (?:it|my)",
    re.IGNORECASE,
)
_DEPENDANT = re.compile(
    r"\b(?:son|daughter|child|children|kid|kids|baby|newborn|grandson|granddaughter|grandchild|dependent|teen|teenager|nephew|niece)s?\b",
    re.IGNORECASE,
)
_BIRTH_CONTEXT = re.compile(r"date of birth|birth ?date|birthday|\bborn\b|\bdob\b", re.IGNORECASE)
_HUMAN_LABEL = {
    "member_id": "member ID",
    "policy_number": "policy number",
    "account_number": "account number",
    "order_number": "order number",
    "claim_number": "claim number",
    "loan_number": "loan number",
    "date_of_birth": "date of birth",
    "phone_number": "phone number",
    "zip_code": "ZIP code",
    "pin": "PIN",
    "card_last4": "last four digits",
    "reference_number": "reference number",
}


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (an adjacent swap counts one)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def near_miss_identifier(a: str, b: str) -> bool:
    """Two different identifiers one slip apart: the same one misremembered, not two distinct ones."""
    if a == b or min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 1:
        return False
    return edit_distance(a, b) <= (1 if max(len(a), len(b)) <= 6 else 2)


def _significant(value: str) -> str:
    whole, cents = value.split(".")
    return whole + ("" if cents == "00" else cents)


def near_miss_amount(a: str, b: str) -> bool:
    """Amounts of three or more significant digits with one digit changed or two adjacent digits swapped."""
    sa, sb = _significant(a), _significant(b)
    if sa == sb or len(sa) != len(sb) or len(sa) < 3 or (a.endswith(".00") != b.endswith(".00")):
        return False
    return edit_distance(sa, sb) == 1


def _describe(m: Mention) -> str:
    return _HUMAN_LABEL.get(m.label or "", m.kind)


def _identifier_contradictions(view: CallView, mentions: list[Mention]) -> list[Finding]:
    ids = [m for m in mentions if m.kind == "identifier"]
    out: list[Finding] = []
    for j, later in enumerate(ids):
        if any(m.value == later.value and m.turn < later.turn for m in ids[:j]):
            continue  # a value stated before is a restatement, not a new claim
        for earlier in ids[:j]:
            if earlier.turn == later.turn or earlier.value == later.value:
                continue
            same_stable = earlier.label == later.label and later.label in STABLE_LABELS
            if near_miss_identifier(earlier.value, later.value) or same_stable:
                out.append(
                    Finding(
                        "identifier_contradiction",
                        later.turn,
                        view.turns[later.turn][0],
                        f"gives the {_describe(later)} as '{later.text}', but turn {earlier.turn} said '{earlier.text}'",
                    )
                )
                break
    return out


def _amount_contradictions(view: CallView, mentions: list[Mention]) -> list[Finding]:
    amounts = [m for m in mentions if m.kind == "amount"]
    out: list[Finding] = []
    for j, later in enumerate(amounts):
        for earlier in amounts[:j]:
            if earlier.turn != later.turn and near_miss_amount(earlier.value, later.value):
                out.append(
                    Finding(
                        "amount_contradiction",
                        later.turn,
                        view.turns[later.turn][0],
                        f"states the amount as {later.text}, but turn {earlier.turn} said {earlier.text}",
                    )
                )
                break
    return out


def _date_parts(m: Mention) -> tuple[int, int, int] | None:
    year, month, day = m.value.split("-")
    return None if year == "????" else (int(year), int(month), int(day))


def _date_contradictions(view: CallView, mentions: list[Mention]) -> list[Finding]:
    dates = [(m, _date_parts(m)) for m in mentions if m.kind == "date"]
    full = [(m, p) for m, p in dates if p is not None]
    out: list[Finding] = []
    for j, (later, lp) in enumerate(full):
        for earlier, ep in full[:j]:
            if earlier.turn == later.turn or lp == ep:
                continue
            if sum(x == y for x, y in zip(lp, ep, strict=True)) == 2:
                out.append(
                    Finding(
                        "date_contradiction",
                        later.turn,
                        view.turns[later.turn][0],
                        f"gives the date as '{later.text}', but turn {earlier.turn} said '{earlier.text}'",
                    )
                )
                break
    return out


def _implausible_birth_dates(view: CallView, mentions: list[Mention], today: date) -> list[Finding]:
    out: list[Finding] = []
    for m in mentions:
        parts = _date_parts(m) if m.kind == "date" else None
        if parts is None:
            continue
        text = view.turns[m.turn][1]
        context = text + (" " + view.turns[m.turn - 1][1] if m.turn > 0 else "")
        if m.label != "date_of_birth" and not _BIRTH_CONTEXT.search(text):
            continue
        if _DEPENDANT.search(context):
            continue
        year, month, day = parts
        try:
            born = date(year, month, day)
        except ValueError:
            continue
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if born > today:
            message = f"gives a date of birth in the future ('{m.text}')"
        elif age < ADULT_AGE:
            message = f"gives a date of birth ('{m.text}') that makes the adult caller {age} years old"
        else:
            continue
        out.append(Finding("implausible_birth_date", m.turn, view.turns[m.turn][0], message))
    return out


_OWNER = re.compile(r"\b(?:on|for|with|to|from|under) (?:the|your|that|this)\s+$", re.IGNORECASE)
_GENERIC = {"account_number", "order_number", "claim_number", "policy_number", "loan_number"}


def requested_labels(question: str) -> set[str]:
    """What an agent's question asks for: "the name on the account" asks for a name, not an account number."""
    wanted: set[str] = set()
    for name, pattern in LABEL_PATTERNS:
        if name not in _ASKABLE:
            continue
        for m in pattern.finditer(question):
            if _OWNER.search(question[: m.start()]):
                continue
            if name in _GENERIC and not re.search(r"number|\bid\b|#", m.group(0), re.IGNORECASE):
                continue
            wanted.add(name)
    return wanted


def _unanswered_requests(view: CallView, mentions: list[Mention]) -> list[Finding]:
    out: list[Finding] = []
    for i, (speaker, text) in enumerate(view.turns):
        if speaker != "AGENT" or not _ASK.search(text):
            continue
        wanted = requested_labels(text)
        if not wanted:
            continue
        replies = [k for k in range(i + 1, len(view.turns)) if view.turns[k][0] == "CUSTOMER"][:2]
        if not replies or any(_CANNOT.search(view.turns[k][1]) for k in replies):
            continue
        given = [m for m in mentions if m.turn in replies]
        missing: list[str] = []
        if "date_of_birth" in wanted and not any(m.kind == "date" for m in given):
            missing.append("date of birth")
        if (wanted - {"date_of_birth"}) and not any(m.kind == "identifier" for m in given):
            missing.append(" / ".join(sorted(_HUMAN_LABEL[w] for w in wanted - {"date_of_birth"})))
        if missing:
            out.append(
                Finding(
                    "unanswered_request",
                    i,
                    speaker,
                    f"asks for the {' and the '.join(missing)}; the caller's next turns never give it",
                )
            )
    return out


def _fact_contradictions(view: CallView, mentions: list[Mention]) -> list[Finding]:
    out: list[Finding] = []
    for name, raw in view.facts.items():
        fact_date = None
        for pattern in DATE_PATTERNS:
            m = pattern.search(raw)
            if m and m.group(0) == raw.strip():
                fact_date = parse_date(m)
                break
        for mention in mentions:
            speaker = view.turns[mention.turn][0]
            if fact_date is not None and mention.kind == "date" and mention.label == name:
                if str(fact_date) != mention.value and fact_date.year is not None:
                    out.append(
                        Finding(
                            "fact_contradiction",
                            mention.turn,
                            speaker,
                            f"gives the {name} as '{mention.text}', the plan fixed '{raw}'",
                        )
                    )
            elif fact_date is None and mention.kind == "identifier":
                value = normalise_identifier(raw)
                same_stable = mention.label == name and name in STABLE_LABELS
                if mention.value != value and (same_stable or near_miss_identifier(value, mention.value)):
                    out.append(
                        Finding(
                            "fact_contradiction",
                            mention.turn,
                            speaker,
                            f"gives the {name} as '{mention.text}', the plan fixed '{raw}'",
                        )
                    )
    return out


def entity_findings(view: CallView, today: date | None = None) -> list[Finding]:
    """Every entity-rule finding of ``view``, in turn order."""
    mentions = call_mentions(view.turns)
    found = [
        *_identifier_contradictions(view, mentions),
        *_amount_contradictions(view, mentions),
        *_date_contradictions(view, mentions),
        *_implausible_birth_dates(view, mentions, today or date.today()),
        *_unanswered_requests(view, mentions),
        *_fact_contradictions(view, mentions),
    ]
    return sorted(found, key=lambda f: (f.turn, f.rule))
