"""Fixtures of the pool tests: simulated LLM nodes on 127.0.0.1, closed after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.simulated_node import NodeBehaviour, SimulatedNode


@pytest.fixture
def sim() -> Iterator[Callable[..., SimulatedNode]]:
    made: list[SimulatedNode] = []

    def make(**behaviour: Any) -> SimulatedNode:
        made.append(SimulatedNode(NodeBehaviour(**behaviour), seed=len(made)))
        return made[-1]

    yield make
    for node in made:
        node.close()
