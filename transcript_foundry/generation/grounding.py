"""Whether a freshly written turn keeps to what the plan fixed, checked where re-sampling one turn is cheap:
the facts its beat says it gives are in it, and it breaks none of the discriminator's role and entity rules
(the caller speaking as the company, someone addressed by their own name, an identifier, amount or date
said differently than before or than the plan fixed). The quality gate checks the whole call again."""

from __future__ import annotations

import re
from datetime import date

from transcript_foundry.contract.transcript import Turn
from transcript_foundry.generation.conversation_plan import ConversationPlan, PlannedTurn
from transcript_foundry.generation.plan_facts import FACT_LABELS
from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.entity_rules import entity_findings
from transcript_foundry.quality.coherence.role_rules import role_findings

# Needs the turns after it to be judged (an agent's question answered later): the whole-call gate's job.
_LOOKAHEAD_RULES = frozenset({"unanswered_request"})
_DIGIT_KINDS = frozenset(
    {"member_id", "medical_record_number", "account_number", "order_number", "card_number", "ssn", "phone_number",
     "zip_code", "device_serial", "licence_plate"}
)  # fmt: skip


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def fact_said(kind: str, value: str, text: str) -> bool:
    """Whether ``text`` gives the fact: the identifier's digits, the date's year, the name's surname, ..."""
    lowered = text.lower()
    if kind in _DIGIT_KINDS:
        return _digits(value) in _digits(text)
    if kind == "date_of_birth":
        return value.rsplit(" ", 1)[-1] in text
    if kind == "person_name":
        return any(part.lower() in lowered for part in value.split())
    if kind == "date":
        return value.split()[0].lower() in lowered
    if kind == "street_address":
        return value.split()[0] in text
    return value.lower() in lowered


def grounding_problem(
    plan: ConversationPlan, written: list[Turn], planned: PlannedTurn, text: str
) -> str | None:
    """Why the turn ``text`` (the next after ``written``) strays from the plan, or None."""
    missing = [FACT_LABELS[k] for k, v in planned.says.items() if not fact_said(k, v, text)]
    if missing:
        return f"does not give the {', '.join(missing)} the plan fixed"
    view = CallView(
        turns=(*((t.speaker, t.text) for t in written), (planned.speaker, text)),
        company=plan.company,
        agent_name=plan.agent_name,
        customer_name=plan.customer_name,
        domain=plan.domain,
        facts=plan.facts,
    )
    turn = len(written)
    for finding in (*role_findings(view), *entity_findings(view, today=date.today())):
        if finding.turn == turn and finding.hard and finding.rule not in _LOOKAHEAD_RULES:
            return finding.message
    return None
