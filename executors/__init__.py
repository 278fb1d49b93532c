"""Executors: the node-routing executor places each Dagster step on the best LLM node of the pool."""
