"""Capitalised words that look like a name or a place to spaCy's small model but are not an identifier."""

from __future__ import annotations

from transcript_foundry.phi.recognizers import US_STATES


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# States and countries: HIPAA Safe Harbor removes places smaller than a state, not states or countries.
NOT_A_PLACE: frozenset[str] = (
    frozenset(s.lower() for s in US_STATES.split("|"))
    | frozenset({"u.s.", "united states", "the united states"})
    | _words(
        "us usa america uk england europe asia canada mexico portugal spain france germany italy ireland "
        "japan china india brazil brasil australia philippines nigeria ghana kenya vietnam korea greece "
        "poland ukraine russia sweden norway netherlands colombia peru argentina chile cuba jamaica haiti "
        "egypt israel turkey"
    )
)

# Call-center words spaCy sometimes tags as a person: greetings, roles, titles, plan and drug names.
NOT_A_NAME: frozenset[str] = _words(
    "okay ok yes no sure thanks thank hello hi hey sorry please great perfect alright um uh oh wow "
    "agent customer caller member copay deductible medicare medicaid tylenol advil ibuprofen lisinopril "
    "metformin atorvastatin amoxicillin insulin ma'am sir mr mr. mrs mrs. ms ms. miss dr dr. doctor nurse"
)
