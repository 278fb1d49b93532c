"""Dagster resources: the LLM node pool and its backends, the state database (ledger), settings."""
