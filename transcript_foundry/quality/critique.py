"""Turning a failed transcript's quality report into a revised plan a generator can follow.

A base model cannot read a reviewer's paragraph, but it follows its beat labels closely. So the critique
becomes per-turn guidance appended to the beat label of each weak turn ("(Customer, frustrated, says why
the bill is wrong, using the words 'claim') Customer:"), and every other turn of the previous draft is kept
as written (``keep_text``): only the weak turns are generated again. Call-wide problems are pinned to the
turns that can fix them: missing domain terms to the caller's problem statement and the agent's
explanation, missing tone cues to the caller's toned turns. For chat models the same notes, plus the
reasons (and the judge's critique), go into the JSON-batch prompt as ``feedback``.
"""

from __future__ import annotations

from collections import defaultdict

from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.generation.conversation_plan import TONED_ACTS, ConversationPlan, PlannedTurn
from transcript_foundry.quality.gate import QualityReport

_TERM_ACTS = {
    "CUSTOMER": ("state_problem", "provide_info", "ask_followup"),
    "AGENT": ("explain", "offer_solution", "answer_followup", "confirm"),
}


def _first_turn(plan: ConversationPlan, speaker: str, acts: tuple[str, ...], taken: set[int]) -> int | None:
    for act in acts:
        for i, t in enumerate(plan.turns):
            if t.speaker == speaker and t.act == act and i not in taken:
                return i
    spare = [i for i, t in enumerate(plan.turns) if t.speaker == speaker and 0 < i < len(plan.turns) - 1]
    return next((i for i in spare if i not in taken), None)


def turn_guidance(report: QualityReport, plan: ConversationPlan) -> dict[int, list[str]]:
    """Turn index -> notes for that turn, from the report's issues."""
    notes: dict[int, list[str]] = defaultdict(list)
    last = len(plan.turns) - 1
    for issue in report.issues:
        if issue.turn is not None and 0 <= issue.turn <= last:
            hint = issue.hint
            if issue.kind == "no_greeting":
                hint = f"saying 'thank you for calling {plan.company}, this is {plan.agent_name}'"
            if hint not in notes[issue.turn]:
                notes[issue.turn].append(hint)
        elif issue.kind == "few_terms":
            terms = [t.strip() for t in issue.hint.split(",") if t.strip()]
            taken: set[int] = set()
            for term, speaker in zip(terms, ("CUSTOMER", "AGENT", "AGENT"), strict=False):
                i = _first_turn(plan, speaker, _TERM_ACTS[speaker], taken)
                if i is not None:
                    taken.add(i)
                    notes[i].append(f"using the words '{term}'")
        elif issue.kind == "few_tone_cues":
            toned = [i for i, t in enumerate(plan.turns) if t.speaker == "CUSTOMER" and t.act in TONED_ACTS]
            customer = [i for i, t in enumerate(plan.turns) if t.speaker == "CUSTOMER" and i < last]
            for i in (toned or customer)[:2]:
                notes[i].append(issue.hint)
    return dict(notes)


def revise_plan(plan: ConversationPlan, report: QualityReport, previous: Transcript) -> ConversationPlan:
    """The plan for the next draft: guidance on the weak turns, the other turns kept as written.

    Without any turn-level note (only a low overall score), or when the previous draft does not line up
    with the plan turn for turn, every turn is generated again with the call-wide notes as feedback.
    """
    notes = turn_guidance(report, plan)
    lined_up = len(previous.turns) == len(plan.turns) and all(
        a.speaker == b.speaker for a, b in zip(previous.turns, plan.turns, strict=True)
    )
    turns: list[PlannedTurn] = []
    for i, planned in enumerate(plan.turns):
        if i in notes:
            turns.append(planned.model_copy(update={"guidance": "; ".join(notes[i]), "keep_text": None}))
        elif lined_up and notes:
            turns.append(planned.model_copy(update={"guidance": None, "keep_text": previous.turns[i].text}))
        else:
            turns.append(planned.model_copy(update={"guidance": None, "keep_text": None}))
    return plan.model_copy(update={"turns": turns, "feedback": feedback_text(report, notes)})


def feedback_text(report: QualityReport, notes: dict[int, list[str]]) -> str:
    """The critique in words, for chat prompts and the ledger."""
    reasons = [r for r in report.reasons if not r.startswith("overall ")]
    parts = ["; ".join(reasons[:5]) or f"overall {report.overall:.2f} below {report.threshold:.2f}"]
    if notes:
        parts.append("Fix: " + "; ".join(f"turn {i + 1} {', '.join(n)}" for i, n in sorted(notes.items())))
    return ". ".join(parts) + "."


def regenerated_turns(plan: ConversationPlan) -> int:
    return sum(1 for t in plan.turns if t.keep_text is None)
