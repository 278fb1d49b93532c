"""Transcripts with planted duplicates, built from the domain packs' exemplars (dedup tests and benchmarks).

Distinct calls: every exemplar of every pack (several scenarios have two exemplars: distinct calls of the
same scenario), as output-contract records with dialogue acts taken from the pack's beats. Planted
duplicates of a call: a copy with case, punctuation and spacing changed; copies with a share of their
words edited (substituted, deleted or inserted); a paraphrase (phrase and word synonyms); a structural
clone (same speaker/act skeleton, sentences and clauses reordered, function words paraphrased); and, as
the counter-case, a same-plan call: another call of the same scenario forced onto the first one's
skeleton, which every rule must keep.
"""

from __future__ import annotations

import copy
import itertools
import random
import re
from typing import Any

from transcript_foundry.domains.domain_pack import DomainPack

Record = dict[str, Any]

# Phrase-level paraphrases (applied first, case-insensitive) and single-word synonyms.
PHRASES = [
    ("thank you for calling", "thanks for phoning"),
    ("how can i help you today", "what can i do for you today"),
    ("how can i help", "what can i do for you"),
    ("could i have", "can i get"),
    ("could you", "can you"),
    ("i'd like to", "i want to"),
    ("would like to", "want to"),
    ("i need to", "i have to"),
    ("of course", "certainly"),
    ("is there anything else", "is there something else"),
    ("let me", "allow me to"),
    ("that's", "that is"),
    ("it's", "it is"),
    ("i'm", "i am"),
    ("you're", "you are"),
    ("don't", "do not"),
    ("can't", "cannot"),
    ("right now", "at the moment"),
    ("a few", "several"),
    ("have a look", "take a look"),
]
SYNONYMS = {
    "help": "assist",
    "need": "require",
    "problem": "issue",
    "great": "wonderful",
    "perfect": "excellent",
    "sure": "certainly",
    "okay": "alright",
    "bill": "invoice",
    "charge": "fee",
    "check": "verify",
    "look": "see",
    "tell": "let",
    "get": "receive",
    "got": "received",
    "sorry": "apologies",
    "today": "now",
    "please": "kindly",
    "thanks": "thank you",
    "number": "no.",
    "fix": "resolve",
    "quick": "fast",
    "soon": "shortly",
    "call": "phone",
    "order": "purchase",
    "account": "profile",
    "send": "mail",
    "new": "fresh",
    "big": "large",
    "little": "small",
    "wrong": "incorrect",
    "start": "begin",
    "want": "wish",
    "said": "stated",
    "again": "once more",
    "just": "only",
}


def exemplar_records(packs: dict[str, DomainPack]) -> list[Record]:
    """Every exemplar of every pack as a transcript record (acts from the pack's beats where they match)."""
    records: list[Record] = []
    for pack in packs.values():
        acts = {b.beat: b.act for b in pack.filler_beats}
        for scenario in pack.scenarios:
            acts.update({b.beat: b.act for b in scenario.beats})
        for i, ex in enumerate(pack.exemplars):
            fallback = [b.act for b in pack.scenario(ex.scenario).beats]
            turns = [
                {
                    "speaker": t.speaker,
                    "text": t.text,
                    "beat": t.beat,
                    "act": acts.get(t.beat) or (fallback[j] if j < len(fallback) else "answer_followup"),
                }
                for j, t in enumerate(ex.turns)
            ]
            records.append(_record(f"{pack.name}-ex{i:02d}", pack.name, ex.scenario, ex.tone, turns))
    return records


def _record(tid: str, domain: str, scenario: str, tone: str, turns: list[dict[str, Any]]) -> Record:
    return {
        "id": tid,
        "request_id": "rdedupcorpus",
        "domain": domain,
        "scenario": scenario,
        "emotional_tone": tone,
        "complexity": "simple",
        "caller_type": None,
        "company": None,
        "agent_name": None,
        "turns": turns,
        "quality": None,
        "generation": {"node_id": "corpus", "model": "exemplar", "strategy": "turn_by_turn"},
    }


def _derive(record: Record, suffix: str, texts: list[str]) -> Record:
    out = copy.deepcopy(record)
    out["id"] = f"{record['id']}-{suffix}"
    for turn, text in zip(out["turns"], texts, strict=True):
        turn["text"] = text
    return out


def case_punct_copy(record: Record) -> Record:
    """Same words, other case, punctuation and spacing: the exact rule's duplicate."""
    texts = []
    for i, t in enumerate(record["turns"]):
        text = t["text"].upper() if i % 2 else t["text"].lower()
        text = re.sub(r"[,.!?]", lambda m: {",": " ;", ".": "!", "!": ".", "?": " ?"}[m.group()], text)
        texts.append("  " + text.replace(" ", "   ") + " ...")
    return _derive(record, "copy", texts)


def word_edits(record: Record, rate: float, seed: int, vocabulary: list[str]) -> Record:
    """A copy with ``rate`` of its words edited: each edit substitutes, deletes or inserts one word."""
    rng = random.Random(seed)
    words = [(i, w) for i, t in enumerate(record["turns"]) for w in t["text"].split()]
    n_edits = max(1, round(rate * len(words)))
    positions = set(rng.sample(range(len(words)), n_edits))
    edited: list[tuple[int, str]] = []
    for k, (turn, word) in enumerate(words):
        if k not in positions:
            edited.append((turn, word))
            continue
        kind = rng.random()
        if kind < 0.6:
            edited.append((turn, rng.choice(vocabulary)))
        elif kind < 0.8:
            edited.append((turn, word))
            edited.append((turn, rng.choice(vocabulary)))
        # else: deleted
    texts = [
        " ".join(w for t, w in edited if t == i) or record["turns"][i]["text"]
        for i in range(len(record["turns"]))
    ]
    return _derive(record, f"edit{round(rate * 100):02d}", texts)


def _paraphrase_text(text: str) -> str:
    out = text
    for phrase, replacement in PHRASES:
        out = re.sub(re.escape(phrase), replacement, out, flags=re.IGNORECASE)

    def swap(match: re.Match[str]) -> str:
        word = match.group()
        repl = SYNONYMS.get(word.lower())
        if repl is None:
            return word
        return repl.capitalize() if word[0].isupper() else repl

    return re.sub(r"[A-Za-z']+", swap, out)


def paraphrase(record: Record) -> Record:
    """The same call reworded (phrase and word synonyms): the semantic rule's duplicate."""
    return _derive(record, "para", [_paraphrase_text(t["text"]) for t in record["turns"]])


def _reorder(text: str) -> str:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
    reordered = []
    for sentence in reversed(sentences):
        clauses = [c.strip() for c in sentence.rstrip(".!?").split(",") if c.strip()]
        reordered.append(", ".join(reversed(clauses)) + (sentence[-1] if sentence[-1] in ".!?" else "."))
    return _paraphrase_text(" ".join(reordered))


def structural_clone(record: Record) -> Record:
    """Same skeleton, the same content words reordered (sentences and clauses) and reworded: the flow rule's."""
    return _derive(record, "clone", [_reorder(t["text"]) for t in record["turns"]])


def same_plan_call(record: Record, other: Record) -> Record:
    """``other``'s words on ``record``'s skeleton: a distinct call of the same beat plan (must be kept)."""
    n = min(len(record["turns"]), len(other["turns"]))
    out = copy.deepcopy(other)
    out["id"] = f"{other['id']}-on-{record['id']}"
    out["turns"] = [dict(t, act=record["turns"][i]["act"]) for i, t in enumerate(other["turns"][:n])]
    return out


def vocabulary(records: list[Record]) -> list[str]:
    return sorted({w for r in records for t in r["turns"] for w in re.findall(r"[A-Za-z']+", t["text"])})


def same_scenario_pairs(records: list[Record]) -> list[tuple[Record, Record]]:
    """Pairs of distinct exemplar calls of the same domain and scenario, trimmed to a common length."""
    pairs = []
    by_scenario: dict[tuple[str, str], list[Record]] = {}
    for r in records:
        by_scenario.setdefault((r["domain"], r["scenario"]), []).append(r)
    for group in by_scenario.values():
        for a, b in itertools.pairwise(group):
            pairs.append((a, b))
    return pairs


def synthetic_calls(
    exemplars: list[Record], count: int, seed: int, duplicate_share: float = 0.1
) -> tuple[list[Record], dict[str, str]]:
    """``count`` calls for benchmarks: exemplar skeletons with turns mixed across the domain's exemplars and
    a third of the words replaced, plus planted duplicates (exact copies, 5 % and 10 % word edits) of
    earlier calls. Returns the calls in order and {planted id: original id}."""
    rng = random.Random(seed)
    vocab = vocabulary(exemplars)
    turns_by = {}
    for r in exemplars:
        for t in r["turns"]:
            turns_by.setdefault((r["domain"], t["speaker"]), []).append(t["text"].split())
    calls: list[Record] = []
    planted: dict[str, str] = {}
    distinct = 0
    while len(calls) < count:
        if calls and distinct > 10 and rng.random() < duplicate_share:
            original = calls[rng.randrange(len(calls))]
            while original["id"] in planted:
                original = calls[rng.randrange(len(calls))]
            kind = rng.randrange(3)
            copy_ = (
                case_punct_copy(original)
                if kind == 0
                else word_edits(original, 0.05 if kind == 1 else 0.10, rng.randrange(2**31), vocab)
            )
            copy_["id"] = f"syn{len(calls):07d}-{('copy', 'edit05', 'edit10')[kind]}"
            planted[copy_["id"]] = original["id"]
            calls.append(copy_)
            continue
        base = exemplars[rng.randrange(len(exemplars))]
        turns = []
        for t in base["turns"]:
            pool = turns_by[(base["domain"], t["speaker"])]
            words = list(t["text"].split() if rng.random() < 0.5 else pool[rng.randrange(len(pool))])
            for k in range(len(words)):
                if rng.random() < 0.33:
                    words[k] = vocab[rng.randrange(len(vocab))]
            turns.append(dict(t, text=" ".join(words)))
        calls.append(dict(base, id=f"syn{len(calls):07d}", turns=turns))
        distinct += 1
    return calls, planted
