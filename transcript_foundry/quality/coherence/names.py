"""Who is who in a call: self-introductions, names used to address someone, and the company's name.

Patterns over written English: "this is Hannah", "Marcus speaking", "my name is Rosa Delgado" introduce;
"Thanks, Marcus.", "Take care, Mrs. Whitcombe" address; "Thank you for calling Bluepine Health Plan" and
"Larkfield Medical Group, this is Hannah" name the company.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx)\.?"
# Capitalised words that are not names where these patterns look for one.
NOT_NAMES_TEXT = """
    I Im Okay Ok Yes No Yeah Yep Nope Sure Great Perfect Alright Right Fine Good Thanks Thank Hi Hello Hey Bye
    Goodbye Morning Afternoon Evening Well Oh Um Uh So And But Or Please Sorry Wonderful Excellent Absolutely
    Understood Got Done Cool Awesome Really Seriously Honestly Anyway Also Then Now Today Tomorrow Tonight
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
    September October November December Dear Sir Madam Ma'am Everyone Team Support Services Billing Care
    Calling Speaking Here There This That It Its Is The A An We You He She They Let Just Happy Glad Of Take
    Have Enjoy Welcome Congratulations Cheers Again Very Much Dr Doctor Mom Dad Mother Father Hold On Wait
    Mr Mrs Ms Miss Mx Hmm Ah Ahh Wow Nah Correct Exactly Definitely Certainly Totally Fair Ugh Whoa Unfortunately Actually
    """
NOT_NAMES: frozenset[str] = frozenset(NOT_NAMES_TEXT.split())
_INTRO = (
    re.compile(
        rf"\b(?:this is|my name is|my name's|name's|I'm|I am|(?:you're|you are) (?:speaking|talking) (?:with|to))\s+({_NAME})(?:\s+({_NAME}))?"
    ),
    re.compile(rf"\b({_NAME})\s+(?:speaking|here)\b"),
)
_GREETING_WORDS = (
    r"(?:(?:[Tt]hanks|[Tt]hank you|[Bb]ye|[Gg]oodbye|[Hh]i|[Hh]ello|[Hh]ey)\s*,?"
    r"|(?:[Mm]orning|[Aa]fternoon|[Ee]vening|[Oo]kay|[Ss]ure|[Gg]reat|[Pp]erfect|[Aa]lright|[Ss]orry|[Cc]are|[Dd]ay"
    r"|[Tt]oo|[Nn]ight|[Ww]eekend)\s*,)"
)
# Strict: a greeting or thanks word right before the name ("Thanks, Marcus."). Loose: any ", Name." or
# "Name, ..." (used only for names already known to be the agent's or the caller's).
_VOCATIVE_STRICT = re.compile(rf"\b{_GREETING_WORDS}\s+({_TITLE}\s+)?({_NAME})\b(?=\s*[,.!?;]|\s*$)")
_VOCATIVE_LOOSE = (
    re.compile(rf",\s+({_TITLE}\s+)?({_NAME})\s*(?=[.!?]|,\s+(?:[a-z]|I\b))"),
    re.compile(rf"^({_TITLE}\s+)?({_NAME}),\s"),
)
_TITLED = re.compile(rf"\b({_TITLE})\s+({_NAME})")
_COMPANY_WORDS = r"[A-Z][\w'’]*(?:\s+(?:&|and|of)\s+[A-Z][\w'’]*|\s+[A-Z][\w'’]*)*"
_COMPANY = (
    re.compile(
        rf"\b(?:[Tt]hank(?:s| you) for calling|you'?ve reached|you have reached|[Ww]elcome to)\s+(?:the\s+)?({_COMPANY_WORDS})"
    ),
    re.compile(
        rf"^(?:(?:Good (?:morning|afternoon|evening)|Hi|Hello),?\s+)?({_COMPANY_WORDS}),\s+(?:this is|my name|"
        rf"you're speaking|good (?:morning|afternoon|evening)|{_NAME} speaking)"
    ),
    re.compile(
        rf"^(?:(?:Good (?:morning|afternoon|evening)|Hi|Hello),?\s+)?({_COMPANY_WORDS})\s+(?:member|customer|"
        r"pharmacy|claims|digital|fraud|nurse|roadside|life|support|business|billing|technical|tech)\b"
    ),
)
_COMPANY_SUFFIX = re.compile(
    r"\s+(?:member services|customer (?:care|service|support)|support|claims|this|my|line)\b.*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class NameUse:
    turn: int
    name: str  # the bare name: "Hannah", "Whitcombe"
    titled: bool  # said as "Mrs. Whitcombe"
    text: str  # as written


def _ok(name: str) -> bool:
    return name not in NOT_NAMES and len(name) > 1


def introductions(turn: int, text: str) -> list[NameUse]:
    """Names the speaker introduces themself with ("this is Hannah", "my name is Rosa Delgado")."""
    out: list[NameUse] = []
    for pattern in _INTRO:
        for m in pattern.finditer(text):
            if _ok(m.group(1)):
                out.append(NameUse(turn, m.group(1), False, m.group(0)))
                if m.lastindex and m.lastindex >= 2 and m.group(2) and _ok(m.group(2)):
                    out.append(NameUse(turn, m.group(2), False, m.group(0)))
    return out


def addressed(turn: int, text: str, known: frozenset[str] = frozenset()) -> list[NameUse]:
    """Names the speaker addresses someone by ("Thanks, Marcus.", "Take care, Mrs. Whitcombe").

    Any name after a greeting or thanks word counts; a name merely set off by commas only when it is one
    of the ``known`` names (so "I live in Ames, Iowa." addresses nobody).
    """
    intro_spans = [m.span(1) for p in _INTRO for m in p.finditer(text)]
    out: list[NameUse] = []
    seen: set[int] = set()
    hits = [(m, True) for m in _VOCATIVE_STRICT.finditer(text)]
    hits += [(m, False) for p in _VOCATIVE_LOOSE for m in p.finditer(text)]
    for m, strict in hits:
        name = m.group(2)
        start = m.start(2)
        if start in seen or not _ok(name) or any(a <= start < b for a, b in intro_spans):
            continue
        if not strict and name not in known:
            continue
        seen.add(start)
        out.append(NameUse(turn, name, bool(m.group(1)), m.group(0).strip(" ,")))
    return out


def titled_names(turn: int, text: str) -> list[NameUse]:
    """Every "Mr./Mrs./Ms. Surname" in a turn."""
    return [NameUse(turn, m.group(2), True, m.group(0)) for m in _TITLED.finditer(text) if _ok(m.group(2))]


def _clean_company(raw: str) -> str | None:
    name = _COMPANY_SUFFIX.sub("", raw).strip(" ,.")
    words = name.split()
    if not words or all(w in NOT_NAMES for w in words) or words[0] in NOT_NAMES:
        return None
    return name


def companies_named(text: str) -> list[str]:
    """Companies a turn speaks as: "thanks for calling X", "you've reached X", "X, this is Hannah"."""
    out: list[str] = []
    for pattern in _COMPANY:
        for m in pattern.finditer(text):
            name = _clean_company(m.group(1))
            if name and name not in out:
                out.append(name)
    return out


def same_company(a: str, b: str) -> bool:
    """Loose equality: "Tidewell Clinics" and "Tidewell Clinics member support" or "Tidewell" match."""
    wa, wb = a.lower().split(), b.lower().split()
    return bool(wa and wb) and (wa[0] == wb[0] or a.lower() in b.lower() or b.lower() in a.lower())
