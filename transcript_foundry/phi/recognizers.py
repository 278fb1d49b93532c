"""Recognizers Presidio lacks, run on the normalised text (spoken numbers already digits).

Most identifiers in a call come after a label ("my member ID is ...", "the serial number on the back is
..."): ``labelled(label, value)`` builds a pattern whose reported span is the value only, so the label
words stay. Other patterns stand alone (street addresses, dates, SSN / phone shapes, spelled-out names).
``RegexRecognizer`` is a Presidio ``EntityRecognizer`` that reports a pattern's ``value`` group (or the
whole match), optionally checked by a validator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from transcript_foundry.phi.spoken_numbers import MONTH_PATTERN

# What may sit between a label and its value: "is", "number", "#", "on file", "it's", ":" ...
_FILLER = (
    r"(?:[\s:#-]+(?:(?i:is|was|are|it's|it is|that's|that is|number|numbers|no\.?|ID|#|on file|reads|of"
    r"|should be|would be|as)(?=[\s:#-])))*[\s:#-]*(?:(?i:it's|is)\s+)?"
)
# An ID: letters, digits and hyphens; every space-separated part holds a digit, except a short capital
# prefix ("BP 3391 0048", "HP448129"; never "is 55" or "HP448129 and").
_ID_PART = r"[A-Za-z0-9-]*\d[A-Za-z0-9-]*"
_ALNUM_ID = rf"(?:[A-Z]{{1,4}}\s)?{_ID_PART}(?:\s{_ID_PART}){{0,3}}"


def labelled(label: str, value: str) -> str:
    """``label`` (case-insensitive) then filler words, then ``value`` as the reported group."""
    return rf"(?<![\w-])(?i:{label}){_FILLER}(?P<value>{value})(?![\w-])"


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: str
    score: float = 0.8
    validate: Callable[[str], bool] | None = None
    not_after: re.Pattern[str] | None = None  # skip a value whose preceding words match this


class RegexRecognizer(EntityRecognizer):
    """Reports each match's ``value`` group (or the whole match) as ``kind``."""

    def __init__(self, name: str, rules: list[Rule]) -> None:
        self._rules = [(rule, re.compile(rule.pattern)) for rule in rules]
        super().__init__(supported_entities=sorted({r.kind for r in rules}), name=name)

    def load(self) -> None:
        """Nothing to load: the patterns are compiled in ``__init__``."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for rule, regex in self._rules:
            if rule.kind not in entities:
                continue
            for m in regex.finditer(text):
                group = "value" if "value" in regex.groupindex and m.group("value") else 0
                start, end = m.span(group)
                if start == end or (rule.validate and not rule.validate(text[start:end])):
                    continue
                if rule.not_after and rule.not_after.search(text[max(0, start - 30) : start]):
                    continue
                results.append(RecognizerResult(rule.kind, start, end, rule.score))
        return results


def _over_89(value: str) -> bool:
    return 89 < int(value) < 130


def _has_digit(value: str) -> bool:
    """An identifier, not a quantity: a digit and at least four letters or digits."""
    return any(c.isdigit() for c in value) and sum(c.isalnum() for c in value) >= 4


def _nine_digits(value: str) -> bool:
    return sum(c.isdigit() for c in value) >= 9


def _not_a_year_or_amount(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    letters = sum(c.isalpha() for c in value)
    return digits >= 5 or (digits >= 3 and letters >= 1 and len(value) >= 5)


US_STATES = (
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho"
    "|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota"
    "|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York"
    "|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina"
    "|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming"
)
_STATE_CODES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC"
    "|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC"
)
_STATE = rf"(?:{US_STATES}|{_STATE_CODES})"
_PLACE = r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2}"
_STREET_TYPE = (
    # The USPS street suffixes (and their common abbreviations) that Faker and real addresses use.
    r"(?i:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter"
    r"|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Trail|Trl|Loop|Square|Sq|Row|Path|Pike|Alley|Crescent|Annex"
    r"|Arcade|Bayou|Beach|Bend|Bluffs?|Bottom|Branch|Bridge|Brooks?|Burgs?|Bypass|Camp|Canyon|Cape"
    r"|Causeway|Centers?|Circles|Cliffs?|Club|Common|Corners?|Course|Courts|Coves?|Creek|Crest|Crossing"
    r"|Crossroad|Curve|Dale|Dam|Divide|Drives|Estates?|Expressway|Extensions?|Falls?|Ferry|Fields?"
    r"|Flats?|Fords?|Forest|Forges?|Forks?|Fort|Freeway|Gardens?|Gateway|Glens?|Greens?|Groves?"
    r"|Harbors?|Haven|Heights|Hills?|Hollow|Inlet|Islands?|Isle|Junctions?|Keys?|Knolls?|Lakes?"
    r"|Landing|Lights?|Locks?|Lodge|Mall|Manors?|Meadows?|Mews|Mills?|Mission|Motorway|Mount|Mountains?"
    r"|Neck|Orchard|Oval|Overpass|Parks?|Parkways|Pass|Passage|Pines?|Plains?|Plaza|Points?|Ports?"
    r"|Prairie|Radial|Ramp|Ranch|Rapids?|Rest|Ridges?|River|Roads|Route|Rue|Run|Shoals?|Shores?|Skyway"
    r"|Springs?|Spurs?|Squares|Station|Stravenue|Stream|Streets|Summit|Terraces|Throughway|Trace|Track"
    r"|Trafficway|Tunnel|Turnpike|Underpass|Unions?|Valleys?|Via|Viaduct|Views?|Villages?|Ville|Vista"
    r"|Walks?|Wall|Ways|Wells?)"
)
_UNIT = r"(?:,?\s+(?i:apartment|apt|unit|suite|ste|number|no|#)\.?\s*#?\s*[A-Za-z0-9-]{1,6})"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_NOT_NAME = (
    r"(?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June"
    r"|July|August|September|October|November|December|Okay|OK|Yes|No|Sure|Thanks|Thank|Hello|Hi|Sorry"
    r"|The|That|This|It|Just|Calling|Here|Not|So|Well|Oh|Um|Uh|Great|Perfect|Fine|Good|Right|Correct"
    r"|Actually|Really|Also|And|But|Still|Very|Glad|Happy|Trying|Looking|Having|Mr|Mrs|Ms|Miss|Mx|Dr|Doctor"
    r"|Nurse|Prof)\b)"
)
_NAME_WORD = r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)?"
_PERSON = rf"{_NOT_NAME}{_NAME_WORD}(?:\s+(?:[A-Z]\.\s+)?{_NOT_NAME}{_NAME_WORD}){{0,2}}"

# Codes that name a procedure, diagnosis, drug or promotion, not a person: "CPT code 99213".
_CODE_LABEL = re.compile(
    r"(?i:\b(?:CPT|ICD(?:-10)?|HCPCS|NDC|billing|diagnosis|procedure|promo|promotion|discount|coupon|error"
    r"|model)(?: code| codes| number)?(?: is| was| of)?[\s:#]*)$"
)

RULES: dict[str, list[Rule]] = {
    "names": [
        Rule("NAME", rf"(?<!\w)(?:Mr|Mrs|Ms|Miss|Mx|Dr|Doctor|Nurse|Prof)\.?\s+(?P<value>{_PERSON})", 0.85),
        Rule(
            "NAME",
            r"(?i:\b(?:my name is|my name's|name is|name's|this is|I'm|I am|it's|calling for|calling about"
            r"|on behalf of|speaking with|speak to|speak with|patient is|member is|caller is|last name is"
            r"|first name is|full name is|wife|husband|son|daughter|mother|father|mom|dad|grandson"
            r"|granddaughter|spouse|partner|sister|brother|aunt|uncle|is this|that's me|it's me|under)(?:'s name is|'s name's"
            r"| is|,)?\s+)"
            rf"(?P<value>{_PERSON})",
            0.75,
        ),
        # Spelled out: "S-M-I-T-H", "O K A F O R".
        Rule("NAME", r"(?<![\w-])[A-Z](?:(?:-|\s|\.\s?)[A-Z]){2,}(?![\w-])", 0.7),
    ],
    "addresses": [
        Rule(
            "ADDRESS",
            rf"(?<![\w-])\d{{1,6}}[A-Za-z]?\s+(?:(?:North|South|East|West|N|S|E|W|NE|NW|SE|SW)\.?\s+)?"
            rf"(?:[A-Z][a-z]+|\d+(?:st|nd|rd|th))(?:\s+[A-Z][a-z]+){{0,3}}\s+{_STREET_TYPE}\b\.?{_UNIT}?",
            0.85,
        ),
        Rule("ADDRESS", r"(?i:\b(?:P\.?\s?O\.?\s*Box|post office box)\s+\d+)", 0.85),
        Rule(
            "ADDRESS",
            labelled(r"\b(?:apartment|apt\.?|unit|suite)", r"\d{1,5}[A-Za-z]?|[A-Za-z]\d{0,4}"),
            0.6,
        ),
        # "Springfield, Illinois", "Springfield Illinois", "Springfield, IL" (a bare "ID" or "OK" needs the comma).
        Rule(
            "CITY",
            rf"(?<![\w-])(?P<value>{_PLACE})(?:,?\s+(?:{US_STATES})|,\s+(?:{_STATE_CODES}))\b"
            r"(?!\s+(?:Street|Avenue|Road))",
            0.6,
        ),
        # The place after a street address: "1650 Oakridge Drive, Plano", "2750 Pinecrest Way in Boise".
        Rule(
            "CITY",
            rf"(?<![\w-])\d{{1,6}}[A-Za-z]?\s+(?:[A-Z][a-z]+\s+){{1,3}}{_STREET_TYPE}\b\.?{_UNIT}?(?:,\s+|\s+in\s+)"
            rf"(?P<value>{_PLACE})",
            0.6,
        ),
        Rule(
            "CITY",
            r"(?i:\b(?:live|living|lives|lived|moved|reside|residing|located|based|town of|city of)"
            rf"(?:\s+(?:in|to|near|over in|out in))?\s+)(?P<value>{_PLACE})",
            0.6,
        ),
        Rule(
            "ZIP", labelled(r"\b(?:zip|zip code|zipcode|postal code)(?:\s+code)?", r"\d{5}(?:-\d{4})?"), 0.9
        ),
        Rule("ZIP", rf"\b{_STATE}\.?,?\s+(?P<value>\d{{5}}(?:-\d{{4}})?)\b", 0.85),
    ],
    "dates": [
        Rule("DATE", rf"(?<!\w){MONTH_PATTERN}\s+(?:the\s+)?{_DAY}(?:,?\s+(?:\d{{4}}|'\d{{2}}))?(?!\d)", 0.8),
        Rule("DATE", rf"(?<!\w)(?:the\s+)?{_DAY}\s+(?:of\s+)?{MONTH_PATTERN}(?:,?\s+\d{{4}})?(?!\d)", 0.8),
        Rule("DATE", rf"(?<!\w){MONTH_PATTERN}(?:\s+of)?,?\s+\d{{4}}(?!\d)", 0.7),
        # A day of the month on its own: "on the twelfth?", "by the 3rd at noon" (not "on the first try").
        Rule(
            "DATE",
            r"(?i:\b(?:on|by|until|before|after|since) the )(?P<value>\d{1,2}(?:st|nd|rd|th)?)"
            r"(?=\s*(?:[.,;?!]|$|at\b|of\b|in the\b))",
            0.7,
        ),
        Rule("DATE", r"(?<![\w/.-])\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?![\w/-])", 0.75),
        Rule("DATE", r"(?<![\w/.-])\d{4}-\d{2}-\d{2}(?![\w-])", 0.75),
        Rule(
            "AGE",
            r"(?<![\w.-])(?P<value>\d{2,3})(?=[\s-]+years?[\s-]+old|[\s-]+year-old|\s+yo\b|\s+years\s+of\s+age)",
            0.85,
            _over_89,
        ),
        Rule(
            "AGE",
            r"(?i:\b(?:aged?|turned|turning|turns|she's|he's|I'm|I am|she is|he is|who's|who is|almost|nearly)\s+)"
            r"(?P<value>\d{2,3})"
            r"(?!\s*(?:dollars|bucks|percent|%|minutes|days|hours|cents|mg|\.\d))\b",
            0.7,
            _over_89,
        ),
    ],
    "numbers": [
        Rule(
            "SSN",
            labelled(r"\b(?:social security|social|SSN|SS)(?:\s+number)?", r"\d{3}-?\d{2}-?\d{4}"),
            0.95,
        ),
        Rule(
            "SSN",
            labelled(
                r"\blast (?:four|4)(?: digits)?(?: of)? (?:my|your|his|her|the) (?:social(?: security number)?|SSN)",
                r"\d{4}",
            ),
            0.95,
        ),
        Rule("SSN", r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])", 0.6),
        Rule(
            "CARD",
            labelled(
                r"\b(?:credit card|debit card|card|visa|mastercard|amex|american express|discover)"
                r"(?: number| ending in| ending with| that ends in)?",
                r"\d{4}(?:[- ]?\d{4}){2,3}|\d{13,19}|\d{4}",
            ),
            0.9,
        ),
        Rule(
            "CARD", labelled(r"\b(?:ending in|ends in|ending with|last four digits|last four)", r"\d{4}"), 0.7
        ),
        Rule(
            "CARD",
            labelled(r"\b(?:expiration|expiry|expires|exp\.?)(?: date)?", r"\d{1,2}\s?/\s?\d{2,4}|\d{4}"),
            0.8,
        ),
        Rule("CARD", labelled(r"\b(?:security code|CVV|CVC|CVV2)", r"\d{3,4}"), 0.85),
        Rule(
            "PHONE",
            r"(?<![\w-])(?:\+?1[-. ]?)?(?:\(\d{3}\)\s?|\d{3}[-. ]?)\d{3}[-. ]?\d{4}(?:\s*(?i:ext|extension|x)\.?\s*\d{1,5})?"
            r"(?![\w-])",
            0.6,
        ),
        Rule("PHONE", r"(?<![\w-])[2-9]\d{2}-\d{4}(?![\w-])", 0.5),  # a local number, "289-5603"
        Rule("PHONE", labelled(r"\barea code", r"\d{3}"), 0.9),  # "area code six one seven, then ..."
        Rule(
            "PHONE",
            labelled(
                r"\b(?:phone|cell|mobile|fax|telephone|callback|call back|home|work|landline)(?: number)?",
                r"\+?[\d(][\d() .-]{5,16}\d",
            ),
            0.9,
        ),
        Rule(
            "MRN",
            labelled(
                r"\b(?:medical record(?: number)?|MRN|chart(?: number)?|patient (?:ID|number|account)"
                r"|hospital number|record number)",
                r"(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{2,20}[A-Za-z0-9]",
            ),
            0.95,
            _has_digit,
        ),
        Rule(
            "MEMBER_ID",
            labelled(
                r"\b(?:member|membership|subscriber|beneficiary|policy|policyholder|group|plan|insurance"
                r"|medicare|medicaid|MBI|health plan|ID card)(?: ID| number| identification number| no\.?|#)?",
                _ALNUM_ID,
            ),
            0.9,
            _has_digit,
        ),
        Rule(
            "ACCOUNT",
            labelled(r"\b(?:account|acct|customer|billing|routing)(?: ID| number| no\.?|#)?", _ALNUM_ID),
            0.85,
            _has_digit,
        ),
        Rule(
            "LICENSE",
            labelled(
                r"\b(?:driver'?s? licen[cs]e|licen[cs]e(?! plate)|DL|certificate|certification|NPI|DEA|passport)"
                r"(?: number| ID| no\.?|#)?",
                _ALNUM_ID,
            ),
            0.9,
            _has_digit,
        ),
        Rule(
            "PLATE",
            labelled(
                r"\b(?:licen[cs]e plate|plate|tag|VIN|vehicle identification)(?: number| no\.?|#)?",
                r"(?=[A-Za-z0-9 -]*\d)[A-Za-z0-9]{1,4}(?:[- ]?[A-Za-z0-9]{1,13})",
            ),
            0.9,
            _has_digit,
        ),
        Rule(
            "PLATE",
            r"(?<![\w-])(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])[A-HJ-NPR-Z0-9]{17}(?![\w-])",
            0.7,
        ),
        Rule(
            "DEVICE",
            labelled(
                r"\b(?:serial(?: number)?|S/N|SN|device (?:ID|number)|IMEI|MEID|MAC(?: address)?|ESN"
                r"|equipment ID|modem ID|router ID)",
                r"(?=[A-Za-z0-9:-]*\d)[A-Za-z0-9](?:[A-Za-z0-9:-]{2,24}[A-Za-z0-9])",
            ),
            0.9,
        ),
        Rule("DEVICE", r"(?<![\w:-])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![\w:-])", 0.85),
        Rule(
            "ID",
            labelled(
                r"\b(?:order|confirmation|claim|reference|ref|case|ticket|invoice|authorization|auth|tracking"
                r"|prescription|rx|referral|transaction)(?: number| ID| no\.?|#)?",
                _ALNUM_ID,
            ),
            0.8,
            _has_digit,
        ),
        # Digit groups read out with pauses, 9+ digits in all: "35 209900 176148 1" (an IMEI).
        Rule("ID", r"(?<![\w.,-])\d{1,6}(?: \d{1,6}){2,5}(?![\w-]|[.,]\d)", 0.5, _nine_digits),
        # Any other unique identifying number: 5+ digits, or 3+ digits with letters, as one token.
        Rule(
            "ID",
            r"(?<![\w$.,-])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?![\w-]|[.,]\d)",
            0.5,
            _not_a_year_or_amount,
            _CODE_LABEL,
        ),
    ],
}


def phi_recognizers() -> list[RegexRecognizer]:
    return [RegexRecognizer(f"transcript_foundry_{name}", rules) for name, rules in RULES.items()]
