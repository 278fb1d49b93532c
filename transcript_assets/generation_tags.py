"""Op tags of the steps that call LLM nodes: what the node-routing executor must find in a node for them.

The turn-by-turn prompt (few-shot exemplar prefix plus the conversation so far) needs a context window of
about 2k tokens; any backend and model qualify otherwise (base models generate turn by turn, chat models
JSON batches).
"""

from transcript_foundry.pool.node_choice import TAG_MIN_CONTEXT

GENERATION_OP_TAGS = {TAG_MIN_CONTEXT: "2048"}
