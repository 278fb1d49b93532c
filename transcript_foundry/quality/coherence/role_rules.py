"""Role and identity consistency: who may say what, and names used consistently.

Rules (each a feature of the discriminator; each finding names the turn):

- ``customer_speaks_as_company``: the caller greets as the business ("Thanks for calling ...", "How can I
  help you?") or introduces themself as being from the call's company ("Hi, I'm from Tidewell Clinics");
- ``agent_speaks_as_caller``: the agent says what only a caller says ("I'm calling about my bill", "my
  member ID is ...");
- ``own_name_address``: someone is thanked or addressed by their own name (the agent saying "Thank you,
  Marcus" when the agent is Marcus);
- ``name_inconsistency``: the agent introduced under two names, the caller calling the agent by another
  name, or the agent calling the caller by a name the caller did not give;
- ``company_inconsistency``: the agent speaks for two different companies in one call.

Names come from ``CallView`` (``agent_name``, ``customer_name``, ``company``) where given, else from the
call itself (the agent's self-introduction, the caller's stated name, the greeting's company).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.findings import Finding
from transcript_foundry.quality.coherence.names import (
    _NAME,
    NOT_NAMES,
    NameUse,
    addressed,
    companies_named,
    introductions,
    same_company,
    titled_names,
)

ROLE_RULES: tuple[str, ...] = (
    "customer_speaks_as_company",
    "agent_speaks_as_caller",
    "own_name_address",
    "name_inconsistency",
    "company_inconsistency",
)
AGENT_ONLY_LINES = re.compile(
    r"thank(?:s| you) for (?:calling|contacting|choosing)|you'?ve reached|you have reached|"
    r"how (?:can|may) I (?:help|assist) you|is there anything else I can (?:help|do)|my name is \w+,? (?:and )?how",
    re.IGNORECASE,
)
CALLER_ONLY_LINES = re.compile(
    r"\bI'?m calling (?:about|because|to|for|on behalf|regarding)|\bI am calling (?:about|because|to|for)|"
    r"\bmy (?:member id|member number|account number|policy number|order number|claim number|date of birth) is\b|"
    r"\bcan you help me\b|\bI (?:need|want|would like|'d like) to (?:cancel|return|dispute|report|change) my\b",
    re.IGNORECASE,
)
_STATED_NAME_START = re.compile(
    rf"^(?i:(?:yes|yeah|sure|okay|ok|hi|uh|um|it's|it is|this is|my name is|name's|that's)[,.]?\s+)*({_NAME})\s+({_NAME})\b"
)
_STATED_NAME_MID = re.compile(rf"(?:,|\band)\s+({_NAME})\s+({_NAME})\s*[,.]")


@dataclass(frozen=True)
class CallIdentities:
    """Who the call is between, as given or as the call itself says (turn of first mention, or -1)."""

    agent_name: str | None
    agent_turn: int
    company: str | None
    customer_first: frozenset[str]
    customer_last: frozenset[str]
    customer_stated_turn: int


def _first_names(intros: list[NameUse]) -> list[NameUse]:
    """The first name of each introduction ("my name is Rosa Delgado" gives Rosa)."""
    return [u for k, u in enumerate(intros) if k == 0 or intros[k - 1].text != u.text]


def _asks_name(text: str) -> bool:
    return bool(re.search(r"\bname\b", text, re.IGNORECASE))


def identities(view: CallView) -> CallIdentities:
    agent_name, agent_turn = (view.agent_name.split()[0], -1) if view.agent_name else (None, -1)
    company = view.company
    first: set[str] = set()
    last: set[str] = set()
    stated_turn = -1
    if view.customer_name:
        parts = view.customer_name.split()
        first.add(parts[0])
        last.add(parts[-1])
    for i, (speaker, text) in enumerate(view.turns):
        if speaker == "AGENT":
            if agent_name is None:
                intro = _first_names(introductions(i, text))
                if intro:
                    agent_name, agent_turn = intro[0].name, i
            if company is None:
                named = companies_named(text)
                if named:
                    company = named[0]
            continue
        if view.customer_name:
            continue
        names: list[tuple[str, str]] = []
        prev = view.turns[i - 1][1] if i > 0 and view.turns[i - 1][0] == "AGENT" else ""
        if _asks_name(prev):
            for pattern in (_STATED_NAME_START, _STATED_NAME_MID):
                m = pattern.search(text)
                if m and m.group(1) not in NOT_NAMES and m.group(2) not in NOT_NAMES:
                    names.append((m.group(1), m.group(2)))
                    break
        intros = introductions(i, text)
        for k, use in enumerate(intros):
            if k == 0 or intros[k - 1].text != use.text:
                after = intros[k + 1].name if k + 1 < len(intros) and intros[k + 1].text == use.text else ""
                names.append((use.name, after))
        for f, lname in names:
            first.add(f)
            if lname:
                last.add(lname)
            if stated_turn < 0:
                stated_turn = i
    return CallIdentities(agent_name, agent_turn, company, frozenset(first), frozenset(last), stated_turn)


def _company_word(company: str | None) -> str | None:
    if not company:
        return None
    return re.escape(company.split()[0])


def _customer_as_company(view: CallView, ids: CallIdentities) -> list[Finding]:
    out: list[Finding] = []
    word = _company_word(ids.company)
    own = (
        re.compile(
            rf"\b(?:I'?m|I am|this is \w+|we'?re|we are|calling)\s+(?:from|with|at|here at)\s+(?:the\s+)?{word}"
            rf"|^(?:\W*\w+,\s*)?{word}\b[^.?!]*?,\s*(?:this is|my name)",
            re.IGNORECASE,
        )
        if word
        else None
    )
    for i, (speaker, text) in enumerate(view.turns):
        if speaker != "CUSTOMER":
            continue
        m = AGENT_ONLY_LINES.search(text) or (own.search(text) if own else None)
        if m:
            out.append(
                Finding(
                    "customer_speaks_as_company",
                    i,
                    speaker,
                    f"the caller speaks as the business ('{m.group(0)}')",
                )
            )
    return out


def _agent_as_caller(view: CallView) -> list[Finding]:
    out: list[Finding] = []
    for i, (speaker, text) in enumerate(view.turns):
        m = CALLER_ONLY_LINES.search(text) if speaker == "AGENT" else None
        if m:
            out.append(
                Finding(
                    "agent_speaks_as_caller", i, speaker, f"the agent speaks as the caller ('{m.group(0)}')"
                )
            )
    return out


def _own_name(view: CallView, ids: CallIdentities) -> list[Finding]:
    out: list[Finding] = []
    known = ids.customer_first | ({ids.agent_name} if ids.agent_name else set())
    for i, (speaker, text) in enumerate(view.turns):
        for use in addressed(i, text, frozenset(known)):
            if speaker == "AGENT" and ids.agent_name and use.name == ids.agent_name and not use.titled:
                verb = "thanks" if re.match(r"thank", use.text, re.IGNORECASE) else "addresses"
                out.append(
                    Finding(
                        "own_name_address",
                        i,
                        speaker,
                        f"{verb} the caller by the agent's own name '{use.name}'",
                    )
                )
            elif speaker == "CUSTOMER" and use.name in ids.customer_first and use.name != ids.agent_name:
                out.append(
                    Finding(
                        "own_name_address",
                        i,
                        speaker,
                        f"addresses the agent by the caller's own name '{use.name}'",
                    )
                )
    return out


def _name_inconsistency(view: CallView, ids: CallIdentities) -> list[Finding]:
    """Names that contradict who the call is between (the company's own words are not names)."""
    out: list[Finding] = []
    company_words = set(ids.company.split()) if ids.company else set()
    first_title: tuple[str, int] | None = None
    first_vocative: tuple[str, int] | None = None
    for i, (speaker, text) in enumerate(view.turns):
        if speaker == "AGENT":
            for use in _first_names(introductions(i, text)):
                if use.name in company_words:
                    continue
                if ids.agent_name and use.name != ids.agent_name and use.name not in ids.customer_first:
                    where = f"turn {ids.agent_turn}" if ids.agent_turn >= 0 else "the plan"
                    out.append(
                        Finding(
                            "name_inconsistency",
                            i,
                            speaker,
                            f"the agent introduces themself as '{use.name}', but {where} named the agent '{ids.agent_name}'",
                        )
                    )
            uses = {u.text: u for u in [*addressed(i, text), *titled_names(i, text)]}.values()
            for use in uses:
                if use.name in company_words:
                    continue
                if use.name == ids.agent_name and not use.titled:
                    continue  # own_name_address reports it
                known = ids.customer_last if use.titled else ids.customer_first
                if (
                    known
                    and use.name not in known
                    and use.name not in (ids.customer_first | ids.customer_last)
                ):
                    stated = (
                        f"turn {ids.customer_stated_turn}" if ids.customer_stated_turn >= 0 else "the plan"
                    )
                    out.append(
                        Finding(
                            "name_inconsistency",
                            i,
                            speaker,
                            f"calls the caller '{use.text}', but {stated} gave the caller's name as "
                            f"{' / '.join(sorted(ids.customer_first | ids.customer_last))}",
                        )
                    )
                elif not known:
                    ref = first_title if use.titled else first_vocative
                    if ref is None:
                        if use.titled:
                            first_title = (use.name, i)
                        else:
                            first_vocative = (use.name, i)
                    elif ref[0] != use.name:
                        out.append(
                            Finding(
                                "name_inconsistency",
                                i,
                                speaker,
                                f"calls the caller '{use.text}', but turn {ref[1]} called them '{ref[0]}'",
                            )
                        )
        else:
            for use in addressed(i, text):
                if (
                    use.name not in company_words
                    and not use.titled
                    and ids.agent_name
                    and use.name != ids.agent_name
                    and use.name not in ids.customer_first
                ):
                    where = f"turn {ids.agent_turn}" if ids.agent_turn >= 0 else "the plan"
                    out.append(
                        Finding(
                            "name_inconsistency",
                            i,
                            speaker,
                            f"the caller calls the agent '{use.name}', but {where} named the agent '{ids.agent_name}'",
                        )
                    )
    return out


def _company_inconsistency(view: CallView, ids: CallIdentities) -> list[Finding]:
    out: list[Finding] = []
    if not ids.company:
        return out
    for i, (speaker, text) in enumerate(view.turns):
        if speaker != "AGENT":
            continue
        for name in companies_named(text):
            if not same_company(name, ids.company):
                out.append(
                    Finding(
                        "company_inconsistency",
                        i,
                        speaker,
                        f"the agent speaks for '{name}', but the call is with '{ids.company}'",
                    )
                )
    return out


def role_findings(view: CallView) -> list[Finding]:
    """Every role-rule finding of ``view``, in turn order."""
    ids = identities(view)
    found = [
        *_customer_as_company(view, ids),
        *_agent_as_caller(view),
        *_own_name(view, ids),
        *_name_inconsistency(view, ids),
        *_company_inconsistency(view, ids),
    ]
    return sorted(found, key=lambda f: (f.turn, f.rule))
