"""The prompt of a call written turn by turn, kept inside the node's context window however long the call.

Prompt = few-shot prefix + the call's header + its lines so far + the next beat label. When that would
outgrow the window, the oldest half of the call's lines is dropped at once (so llama.cpp's cached prefix
is re-evaluated once per drop, not on every turn), and a recap line after the header keeps what the
dropped lines fixed: the details the caller gave. The plan (header, beat labels, facts) is always there,
so a 150-turn call stays consistent from its first turn to its last.
"""

from __future__ import annotations

from transcript_foundry.generation.plan_facts import stated
from transcript_foundry.llm.backend import LLMBackend

RECAP = "(Earlier in this call the caller gave: {given}.)\n"


class RollingPrompt:
    def __init__(self, backend: LLMBackend, head: str, budget_tokens: int):
        self.backend = backend
        self.head = head  # few-shot prefix + this call's header
        self.budget = budget_tokens
        self.lines: list[str] = []
        self.start = 0  # lines before this one are dropped
        self.said: list[dict[str, str]] = []  # the facts each line gave
        self.dropped_turns = 0

    def _text(self) -> str:
        given: dict[str, str] = {}
        for facts in self.said[: self.start]:
            given.update(facts)
        recap = RECAP.format(given=stated(given)) if given else ""
        return self.head + recap + "".join(self.lines[self.start :])

    def prompt(self, label: str) -> str:
        text = self._text() + label
        while self.start < len(self.lines) and self.backend.count_tokens(text) > self.budget:
            self.start += max(1, (len(self.lines) - self.start) // 2)
            self.dropped_turns = self.start
            text = self._text() + label
        return text

    def add(self, label: str, text: str, said: dict[str, str]) -> None:
        self.lines.append(f"{label} {text}\n")
        self.said.append(dict(said))
