"""Words and phrases that show a caller's tone. Used by the quality gate's tone check.

Whole words or phrases; a trailing ``*`` matches any ending (``frustrat*``: frustrated, frustrating).
"""

from __future__ import annotations

TONE_CUES: dict[str, tuple[str, ...]] = {
    "frustrated": (
        "frustrat*", "annoy*", "again", "ridiculous", "still", "fed up", "unacceptable", "third time",
        "second time", "every time", "waste", "waiting", "why", "seriously", "tired of", "supposed to",
        "come on", "hours", "weeks", "can't believe", "not happy", "fine",
    ),
    "angr*": (
        "angr*", "furious", "ridiculous", "unacceptable", "outrageous", "supervisor", "manager", "complain*",
        "never", "sick of", "joke", "lawyer", "cancel", "disgusting", "terrible", "worst", "demand*", "!",
    ),
    "confused": (
        "confus*", "don't understand", "not sure", "what does", "what do you mean", "i thought", "how do i",
        "lost", "which", "unclear", "huh", "sorry?", "mean*", "explain*", "so you're saying", "?",
    ),
    "anxious": (
        "worr*", "nervous*", "scare*", "afraid", "anxious", "what if", "urgent", "as soon as", "really need",
        "please", "stress*", "panic*", "hope", "okay?", "sure", "right away", "concern*", "can't have", "breathe", "emergency",
    ),
    "impatient": (
        "hurr*", "quick", "quickly", "fast", "now", "minutes", "time", "just", "already", "how long",
        "waiting", "busy", "asap", "rush*", "right now", "get on with", "can we",
    ),
    "sad*": (
        "sad*", "passed away", "lost", "hard", "difficult", "sorry", "miss", "alone", "upset", "tough", "crying",
        "can't afford", "disappoint*", "unfortunately", "heartbroken",
    ),
    "satisfied": (
        "great", "thank*", "perfect", "wonderful", "appreciat*", "helpful", "awesome", "excellent", "glad",
        "happy", "love", "nice", "pleased",
    ),
    "calm": ("okay", "sure", "no problem", "thank*", "fine", "alright", "please", "sounds good"),
    "neutral": (),
}

GREETING_CUES = (
    "thank you for calling", "thanks for calling", "hello", "hi", "good morning", "good afternoon",
    "good evening", "this is", "speaking", "how can i help", "how may i help", "welcome",
)
CLOSING_CUES = (
    "bye", "goodbye", "thank*", "have a good", "have a great", "have a nice", "take care", "appreciat*",
    "anything else",
)
