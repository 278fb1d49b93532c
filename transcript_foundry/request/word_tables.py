"""The parser's word tables: synonyms of tones, complexities, caller types and formats, language names, the
nouns a request counts, and the phrases that must not be read as a field (transcript_foundry/request/
parser.py holds the grammar that uses them)."""

from __future__ import annotations

from transcript_foundry.text.number_words import NUMBER_PATTERN


def phrases(text: str) -> tuple[str, ...]:
    """A comma-separated word list, so the tables below read like the thesaurus entries they are."""
    return tuple(p.strip() for p in text.split(",") if p.strip())


TONE_WORDS: dict[str, tuple[str, ...]] = {
    "angry": phrases(
        "angry, anger, irate, furious, livid, enraged, mad, hostile, outraged, aggressive, short-tempered, "
        "hot-headed, yelling, shouting"
    ),
    "frustrated": phrases(
        "frustrated, frustration, fed up, annoyed, exasperated, irritated, upset, aggravated, disgruntled, "
        "dissatisfied, unhappy"
    ),
    "anxious": phrases(
        "anxious, anxiety, worried, nervous, stressed, stressed out, scared, panicked, panicking, panicky, "
        "afraid, fearful, frightened, concerned"
    ),
    "confused": phrases("confused, confusion, puzzled, unsure, bewildered, perplexed, uncertain, clueless"),
    "satisfied": phrases("satisfied, happy, pleased, delighted, grateful, thankful, cheerful, appreciative"),
    "calm": phrases("calm, relaxed, polite, courteous, composed"),
    "impatient": phrases("impatient, in a hurry, in a rush, rushed, hurried, hasty"),
    "sad": phrases(
        "sad, sadness, grieving, grief, bereaved, upset about a loss, upset about the loss, "
        "upset about a death, disappointed, heartbroken, mourning, sorrowful"
    ),
    "neutral": phrases("neutral, normal, matter of fact, unemotional"),
    # Asking for a mix is the same as naming no tone.
    "": phrases(
        "mixed tones, mix of tones, mixture of tones, various tones, varied tones, any tone, all tones, "
        "different tones, mixed emotions"
    ),
}
# How a tone shows in a caller, for matching paraphrases by meaning ("at the end of their rope"); the
# words above are matched exactly first.
TONE_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "angry": (
        "a caller who is angry, shouting and losing their temper",
        "an enraged customer yelling at the agent",
    ),
    "frustrated": (
        "a caller who is frustrated and fed up after trying many times",
        "a customer who is annoyed and running out of patience",
    ),
    "anxious": (
        "a caller who is worried and nervous about what might happen",
        "a scared customer afraid of losing money",
    ),
    "confused": (
        "a caller who is confused and does not understand",
        "a customer who is lost and needs help to understand",
    ),
    "satisfied": (
        "a caller who is happy and pleased with the service",
        "a grateful customer who thanks the agent",
    ),
    "calm": (
        "a caller who is calm, polite and patient",
        "a relaxed customer with no complaints about the agent",
    ),
    "impatient": ("a caller in a hurry who wants it done fast", "an impatient customer who hates waiting"),
    "sad": ("a caller who is sad, grieving or heartbroken", "a disappointed customer who is sorry to leave"),
    "neutral": ("a caller with a neutral, matter of fact tone", "an unemotional routine call"),
}
# Industries no built-in pack covers, so that a request for them is refused rather than matched by a word
# they share with a pack ("hotel booking" is not a clinic appointment, "car insurance" not health cover).
# An entry is left out when a pack names it (a custom banking pack makes "banking" a domain).
OTHER_INDUSTRIES: dict[str, tuple[str, ...]] = {
    "banking": phrases("banking, bank, credit union, mortgage, loans, checking account, credit card issuer"),
    "insurance": phrases("car insurance, auto insurance, home insurance, life insurance, insurance agency"),
    "travel": phrases("airline, flights, hotel, hotel booking, travel agency, car rental, cruise"),
    "utilities": phrases("electricity provider, power company, gas utility, water company, energy supplier"),
    "hospitality": phrases("restaurant, food ordering, pizza place, catering"),
    "government": phrases("government agency, tax office, dmv, city council"),
    "education": phrases("school, university admissions, tutoring"),
    "automotive": phrases("car dealership, car repair, auto shop"),
    "real_estate": phrases("real estate, property rental, landlord"),
}

# Words that are tones only in context: "very patient callers" (not "patient calls"), "callers feel lost"
# (not "lost packages").
TONE_IN_CONTEXT: tuple[tuple[str, str], ...] = (
    (r"\b(?:very|really|quite|extremely|super|incredibly|remarkably|more|most)\s+patient\b", "calm"),
    (r"\b(?:calm|polite|relaxed|courteous|composed)(?:\s*,\s*|\s+and\s+|\s+)patient\b", "calm"),
    (r"\bpatient(?:\s*,\s*|\s+and\s+)(?:calm|polite|relaxed|courteous|composed)\b", "calm"),
    (r"\bpatient\s+(?:tone|demeanou?r|attitude|mood)\b", "calm"),
    (r"(?<!new )(?<!first-time )(?<!first time )\bpatient"
     r"(?=\s+(?:customers?|callers?|people|users|shoppers|clients|subscribers)\b)", "calm"),
    (r"\b(?:feel(?:s|ing)?|felt|are|is|seem(?:s|ing)?|totally|completely|a\s+bit|somewhat|very)\s+lost\b",
     "confused"),
    (r"\blost(?=\s+(?:and\s+confused|callers?|customers?|people|users|patients?|seniors)\b)", "confused"),
)  # fmt: skip

COMPLEXITY_WORDS: dict[str, tuple[str, ...]] = {
    "simple": phrases("short, shorter, brief, quick, simple, simpler, easy, straightforward, basic"),
    "complex": phrases(
        "detailed, escalated, escalation, escalate, multi-issue, multiple issues, several issues, complex, "
        "complicated, lengthy, in-depth, difficult, tricky"
    ),
}
# "long calls" but not "long-time customers", "long wait times", "how long", "as long as".
COMPLEXITY_IN_CONTEXT: tuple[tuple[str, str], ...] = (
    (r"(?<!how )(?<!as )(?<!no )(?<!so )\blong(?:er)?\b"
     r"(?![\s_-]*(?:time|term|standing|lasting|distance|wait|waits|waiting|hold|holds|as)\b)", "complex"),
)  # fmt: skip

CALLER_WORDS: dict[str, tuple[str, ...]] = {
    "elderly": phrases(
        "elderly, senior, senior citizen, older caller, older customer, older adult, older people, "
        "older person, older patient, older folks, older shopper, older member, older subscriber, older user, "
        "retiree, pensioner"
    ),
    "caregiver": phrases("caregiver, carer, caretaker, family member, family caregiver"),
    "new_patient": phrases("new patient, first-time patient"),
    "busy_professional": phrases("busy professional, working professional"),
    "business": phrases(
        "business, small business, business customer, business owner, business client, corporate, "
        "corporate client, corporate customer, enterprise customer, b2b"
    ),
    "first_time": phrases(
        "first-time, first-time customer, first-time caller, first-time buyer, first-time shopper, "
        "new customer, new shopper, new buyer"
    ),
    "loyal_customer": phrases(
        "loyal, loyal customer, long-time customer, longtime customer, long-time, longtime, repeat customer, "
        "regular customer, returning customer"
    ),
    "student": phrases("student, college student, university student"),
    "tech_savvy": phrases("tech-savvy, techie, techy, power user, tech enthusiast"),
}

FORMAT_WORDS: dict[str, tuple[str, ...]] = {
    "rasa": phrases("rasa"),
    "ccai": phrases(
        "dialogflow, dialogflow cx, dialogflow es, ccai, google ccai, contact center ai, contact centre ai, "
        "ccai insights"
    ),
    "contact_lens": phrases(
        "contact lens, amazon contact lens, aws contact lens, amazon connect, lex, amazon lex, aws lex"
    ),
    "custom_json": phrases("json, jsonl, json lines, custom json"),
    # Not produced by any exporter; named so that the JobSpec refuses them with the list of formats.
    "csv": phrases("csv"),
    "tsv": phrases("tsv"),
    "xml": phrases("xml"),
    "parquet": phrases("parquet"),
}

LANGUAGES: dict[str, str] = {
    "english": "en", "spanish": "es", "french": "fr", "german": "de", "italian": "it", "portuguese": "pt",
    "dutch": "nl", "japanese": "ja", "chinese": "zh", "mandarin": "zh", "cantonese": "yue", "korean": "ko",
    "arabic": "ar", "hindi": "hi", "russian": "ru", "polish": "pl", "turkish": "tr", "swedish": "sv",
    "vietnamese": "vi", "tagalog": "tl", "greek": "el", "hebrew": "he",
}  # fmt: skip

COUNT_NOUN = (
    r"(?:transcripts?|transcriptions?|calls?|conversations?|dialogues?|dialogs?|chats?|samples?|examples?"
    r"|interactions?|recordings?)"
)
SINGULAR_NOUN = r"(?:transcript|transcription|call|conversation|dialogue|dialog|chat|sample|example|interaction|recording)"
TURN_UNIT = (
    r"(?:(?:dialogue|dialog|conversation|conversational|speaker)[\s-]+)?"
    r"(?:turns?|exchanges?|utterances?|messages?|back[\s-]and[\s-]forths?)\b"
)
_N = NUMBER_PATTERN

# Words that may stand before "transcripts"/"calls" without naming a domain.
FILLER_WORDS = frozenset(
    phrases(
        "customer, customers, client, clients, caller, callers, service, services, support, care, help, "
        "helpdesk, desk, inbound, outbound, phone, telephone, voice, synthetic, sample, samples, realistic, "
        "fake, example, examples, test, testing, training, mock, simulated, new, different, unique, varied, "
        "diverse, random, good, great, nice, natural, high-quality, quality, agent, agents, call, audio, "
        "text, live, recorded, real, typical, standard, generic, full, complete, dummy, demo, labeled, "
        "labelled, annotated, hotline, center, centre, contact, human, everyday, common, sales, complaint, "
        "complaints, chat, conversation, dialogue, transcript, recording, recordings, more, extra, additional, "
        "calling, caller, people, folks, users, someone, somebody"
    )
)
STOP_WORDS = frozenset(
    phrases(
        "a, an, the, some, of, for, with, about, from, in, on, to, and, or, me, us, i, we, please, generate, "
        "create, make, produce, write, give, need, want, get, build, synthesize, simulate, few, several, "
        "many, all, any, each, every, my, our, your, their, these, those, them, is, are, be, x, by, as, at, "
        "draft, prepare, compose, can, could, would, you, like, let's, i'd, we'd, how, quick"
    )
)

# Phrases that contain a scenario keyword without asking for the scenario ("phone calls" is not device
# support).
NOT_SCENARIO = (
    r"\bphone[\s-]+calls?\b",
    r"\b(?:on|over|by)\s+the\s+phone\b",
    r"\bby\s+phone\b",
    r"\bphone\s+numbers?\b",
    r"\bcustomer\s+service\b",
)
NOISE = (
    rf"(?:{_N})\s*-?\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\b"
    r"(?:[\s-]+old\b)?",
    rf"(?:{_N})\s*(?:%|percent\b|per\s+cent\b)",
    r"[$€£]\s*\d[\d,]*(?:\.\d+)?k?",
    rf"(?:{_N})\s*(?:dollars?|bucks|euros?|pounds?|usd|eur|gbp)\b",
    r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b",
    r"\b\d+/\d+\b",
    r"\b(?:call|contact)[\s-]*cent(?:er|re)s?\b",
)
