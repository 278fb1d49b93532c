"""The fleet in the Dagster UI: one observable asset per LLM node (``fleet/<node id>``) and ``fleet_summary``.

They are external assets (``AssetSpec``): nothing materializes them; the ``fleet_view`` sensor
(``sensors/fleet_view.py``) records an observation of every node each tick, whose numeric metadata the
asset's Plots tab draws over time (temperatures, utilisation, free VRAM, score, concurrency limit, goodput,
circuit state), and one per state change saying who changed it and why. The node list is read when the code
location loads (nodes.yaml, registered agents, the local node); a node that registers later is observed
too and gets its asset definition at the next reload of the code location.
"""

from __future__ import annotations

from collections.abc import Iterable

from dagster import AssetKey, AssetSpec

FLEET_GROUP = "fleet"
FLEET_SUMMARY_KEY = AssetKey(["fleet_summary"])


def fleet_node_key(node_id: str) -> AssetKey:
    return AssetKey(["fleet", node_id])


def fleet_asset_specs(node_ids: Iterable[str]) -> list[AssetSpec]:
    nodes = [
        AssetSpec(
            fleet_node_key(node_id),
            group_name=FLEET_GROUP,
            kinds={"llm"},
            description=(
                f"LLM node {node_id}: temperatures, load, score, concurrency limit, goodput and circuit state "
                "observed every fleet_view tick; thermal / activity / operator state changes say why."
            ),
        )
        for node_id in sorted(set(node_ids))
    ]
    summary = AssetSpec(
        FLEET_SUMMARY_KEY,
        group_name=FLEET_GROUP,
        description="Every known node in one table: state and why, temperatures, score, limit, circuit.",
    )
    return [*nodes, summary]
