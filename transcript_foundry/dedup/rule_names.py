"""The dedup rules by name, in the order they are tried on a transcript (cheapest first)."""

RULES = ("exact", "minhash", "flow", "semantic")
