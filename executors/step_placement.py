"""A step's placement: the node the executor chose for it, why, and what else was considered."""

from __future__ import annotations

from dataclasses import dataclass

from dagster import MetadataValue

from transcript_foundry.pool.node_choice import RankedNode, StepRequirements


class NoEligibleNode(RuntimeError):
    """No node can run the step right now; the message lists every node and why it was excluded."""


def describe_requirements(requirements: StepRequirements) -> str:
    parts = []
    if requirements.needs_gpu:
        parts.append("a GPU")
    if requirements.min_vram_mb:
        parts.append(f"{requirements.min_vram_mb} MB VRAM")
    if requirements.capabilities:
        parts.append("capabilities " + ", ".join(requirements.capabilities))
    if requirements.min_context:
        parts.append(f"a {requirements.min_context}-token context")
    return " and ".join(parts) if parts else "nothing in particular"


def choose_node(step_key: str, requirements: StepRequirements, ranking: list[RankedNode]) -> RankedNode:
    """The best eligible node of ``ranking``; raises ``NoEligibleNode`` naming each node's exclusion."""
    eligible = [n for n in ranking if n.eligible]
    if eligible:
        return max(eligible, key=lambda n: n.score)  # the pool ranks best first; max guards a tie order
    if not ranking:
        raise NoEligibleNode(
            f"step {step_key!r} needs {describe_requirements(requirements)}, but the node pool has no nodes: "
            "configure nodes (nodes.yaml, TRANSCRIPTS_NODES_FILE) or start a node agent"
        )
    reasons = "; ".join(f"{n.node_id}: {n.excluded_because or 'not eligible'}" for n in ranking)
    raise NoEligibleNode(
        f"step {step_key!r} needs {describe_requirements(requirements)}, and no node can run it now ({reasons}). "
        "Wait for a node to recover, resume a paused one, or relax the op tags"
    )


@dataclass(frozen=True)
class StepPlacement:
    run_id: str
    step_key: str
    attempt: int
    requirements: StepRequirements
    node: RankedNode
    ranking: tuple[RankedNode, ...]

    def describe(self) -> str:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(self.node.components.items()))
        where = f" (Kubernetes node {self.node.kubernetes_node})" if self.node.kubernetes_node else ""
        return (
            f"step {self.step_key} → node {self.node.node_id}{where}: score {self.node.score:.3f}"
            + (f" ({parts})" if parts else "")
            + f"; needs {describe_requirements(self.requirements)}"
        )

    def ranking_markdown(self) -> str:
        rows = ["| node | score | eligible | excluded because |", "|---|---|---|---|"]
        for n in self.ranking:
            mark = " (chosen)" if n.node_id == self.node.node_id else ""
            rows.append(
                f"| {n.node_id}{mark} | {n.score:.3f} | {'yes' if n.eligible else 'no'} | {n.excluded_because or ''} |"
            )
        return "\n".join(rows)

    def metadata(self) -> dict[str, MetadataValue]:
        """What the Dagster UI shows on the step's worker-starting event."""
        values: dict[str, MetadataValue] = {
            "node": MetadataValue.text(self.node.node_id),
            "score": MetadataValue.float(float(self.node.score)),
            "score_components": MetadataValue.json({k: float(v) for k, v in self.node.components.items()}),
            "requirements": MetadataValue.text(describe_requirements(self.requirements)),
            "attempt": MetadataValue.int(self.attempt),
            "ranking": MetadataValue.md(self.ranking_markdown()),
        }
        if self.node.kubernetes_node:
            values["kubernetes_node"] = MetadataValue.text(self.node.kubernetes_node)
        plain = {k: v for k, v in self.node.details.items() if isinstance(v, str | int | float | bool | list)}
        if plain:
            values["node_state"] = MetadataValue.json(plain)  # the pool's view: circuit, concurrency ...
        return values
