"""Transcript Foundry: Dagster assets, the request parser, domain packs and the CLI."""
