"""Turn labels for NLU exports (Rasa, Dialogflow): an intent per customer turn, an action per agent turn.

Labels come from generation: every planned turn carries the dialogue act of its beat (see
docs/domain-packs.md). A customer's problem statement becomes the scenario's intent (``billing_dispute``);
other customer acts map to a small, fixed intent set below. A turn without an act (a chat model's JSON
batch that strayed from the plan) is labelled by a rule-based classifier on its position and words.
Agent turns become ``utter_<act>`` actions.
"""

from __future__ import annotations

from typing import Any

from transcript_foundry.contract.lenient_transcripts import UNKNOWN
from transcript_foundry.text.phrase_match import has_any

CUSTOMER_INTENT_BY_ACT: dict[str, str] = {
    "greet": "greet",
    "provide_info": "inform",
    "verify_identity": "inform",
    "explain": "inform",
    "answer_followup": "inform",
    "offer_solution": "inform",
    "request_info": "ask_question",
    "ask_followup": "ask_followup",
    "confirm": "affirm",
    "accept_solution": "affirm",
    "reject_solution": "deny",
    "express_emotion": "express_emotion",
    "escalate": "request_escalation",
    "apologize": "apologize",
    "thank": "thank",
    "close": "goodbye",
}
# The intents every domain shares; each pack adds one intent per scenario id.
GENERIC_INTENTS: tuple[str, ...] = tuple(sorted(set(CUSTOMER_INTENT_BY_ACT.values())))

_GOODBYE = ("bye", "goodbye", "have a good", "take care")
_THANKS = ("thank*", "thanks", "appreciat*")
_YES = ("yes", "yeah", "yep", "sure", "okay", "ok", "sounds good", "that works", "please do")
_NO = ("no", "nope", "not really", "that doesn't", "i don't want")


def classify_customer_turn(text: str, index: int, first_customer: bool, last: bool) -> str:
    """Fallback intent for a customer turn that carries no act."""
    if first_customer:
        return "state_problem"
    if last and has_any(text, _GOODBYE):
        return "goodbye"
    if has_any(text, _THANKS):
        return "thank"
    if has_any(text, _NO):
        return "deny"
    if has_any(text, _YES):
        return "affirm"
    if text.rstrip().endswith("?"):
        return "ask_question"
    return "inform"


def customer_intent(record: dict[str, Any], turn_index: int) -> str:
    turns = record["turns"]
    turn = turns[turn_index]
    act = turn.get("act")
    if act is None:
        first = next(i for i, t in enumerate(turns) if t["speaker"] == "CUSTOMER") == turn_index
        act = classify_customer_turn(turn["text"], turn_index, first, turn_index == len(turns) - 1)
        if act != "state_problem":
            return act
    if act == "state_problem":
        scenario = record.get("scenario")
        return str(scenario) if scenario and scenario != UNKNOWN else "state_problem"
    return CUSTOMER_INTENT_BY_ACT.get(act, "inform")


def agent_action(turn: dict[str, Any]) -> str:
    return f"utter_{turn.get('act') or 'respond'}"
