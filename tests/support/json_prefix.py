"""Whether a text is a prefix of some JSON document: what a grammar-constrained completion guarantees even
when it stops at ``max_tokens`` (its text is then cut anywhere, but never off the grammar)."""

from __future__ import annotations

import re

_NUMBER_PREFIX = re.compile(r"-?(0|[1-9]\d*)?(\.\d*)?([eE][+-]?\d*)?")
_LITERALS = ("true", "false", "null")


def is_json_prefix(text: str) -> bool:
    """True when ``text`` can be extended to a valid JSON value (white space around it allowed)."""
    stack: list[str] = []  # open containers: "{" or "["
    expect = "value"  # value | key | colon | comma_or_end | key_or_end | value_or_end | done
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
            continue
        if expect in ("value", "value_or_end"):
            if expect == "value_or_end" and ch == "]":
                stack.pop()
                expect = "comma_or_end" if stack else "done"
                i += 1
                continue
            if ch in "{[":
                stack.append(ch)
                expect = "key_or_end" if ch == "{" else "value_or_end"
                i += 1
                continue
            if ch == '"':
                end = _string_end(text, i)
                if end is None:
                    return True  # cut inside a string
                i = end
                expect = "comma_or_end" if stack else "done"
                continue
            literal = next(
                (w for w in _LITERALS if w.startswith(text[i : i + len(w)]) and text[i] == w[0]), None
            )
            if literal:
                if not text.startswith(literal, i):
                    return text[i:] == literal[: n - i]  # cut inside a literal
                i += len(literal)
                expect = "comma_or_end" if stack else "done"
                continue
            match = _NUMBER_PREFIX.match(text, i)
            if match and match.end() > i:
                i = match.end()
                expect = "comma_or_end" if stack else "done"
                continue
            return False
        if expect in ("key", "key_or_end"):
            if expect == "key_or_end" and ch == "}":
                stack.pop()
                expect = "comma_or_end" if stack else "done"
                i += 1
                continue
            if ch != '"':
                return False
            end = _string_end(text, i)
            if end is None:
                return True
            i = end
            expect = "colon"
            continue
        if expect == "colon":
            if ch != ":":
                return False
            i += 1
            expect = "value"
            continue
        if expect == "comma_or_end":
            top = stack[-1]
            if ch == ",":
                expect = "key" if top == "{" else "value"
            elif (ch == "}" and top == "{") or (ch == "]" and top == "["):
                stack.pop()
                expect = "comma_or_end" if stack else "done"
            else:
                return False
            i += 1
            continue
        return False  # text after a complete document
    return True


def _string_end(text: str, start: int) -> int | None:
    """Index after the string that opens at ``start`` (a quote), or None when the text ends inside it."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    return None
