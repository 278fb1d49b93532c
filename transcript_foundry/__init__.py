"""Transcript Foundry's library: everything but the Dagster layer (see README, "Where things live")."""

__version__ = "0.1.0"
