"""The layering rules of DESIGN.md §2, checked on the source with ``ast``: the library imports no Dagster and
no app package; resources/ and io_managers/ do not import transcript_assets/; node_agent/ imports only the
library and no Dagster; no import circle; every package the code imports is declared, and the agent's
modules need nothing outside the base dependencies and the agent extra."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

from tests.support.import_graph import (
    AGENT,
    LIBRARY,
    build_graph,
    import_cycles,
    layering_violations,
    reachable,
)

ROOT = Path(__file__).resolve().parents[2]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalise(re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0])


def _declared() -> dict[str, set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"base": {_requirement_name(r) for r in project["dependencies"]}}
    for extra, requirements in project["optional-dependencies"].items():
        groups[extra] = {_requirement_name(r) for r in requirements} - {"transcript-foundry"}
    return groups


def _distributions(import_name: str) -> set[str]:
    return {_normalise(d) for d in importlib.metadata.packages_distributions().get(import_name, [])}


@pytest.fixture(scope="module")
def graph():  # type: ignore[no-untyped-def]
    return build_graph(ROOT)


def test_the_tree_keeps_the_layering_rules(graph) -> None:  # type: ignore[no-untyped-def]
    assert len(graph.modules) > 150  # the whole tree was read
    assert layering_violations(graph) == []


def test_no_import_circle(graph) -> None:  # type: ignore[no-untyped-def]
    assert import_cycles(graph) == []


def test_every_imported_package_is_declared(graph) -> None:  # type: ignore[no-untyped-def]
    declared = _declared()
    everything = set().union(*(names for extra, names in declared.items() if extra != "dev"))
    missing = {}
    for module, names in graph.third_party.items():
        for name in names:
            dists = _distributions(name)
            assert dists, f"{module} imports {name}, which no installed distribution provides"
            if not dists & everything:
                missing[f"{module}: {name}"] = sorted(dists)
    assert missing == {}, "declare these in pyproject.toml"


def test_the_agent_needs_only_the_base_and_the_agent_extra(graph) -> None:  # type: ignore[no-untyped-def]
    declared = _declared()
    allowed = declared["base"] | declared["agent"]
    agent_modules = reachable(graph, [m for m in graph.modules if m.split(".")[0] == AGENT])
    assert any(m.startswith(LIBRARY) for m in agent_modules)  # it does use the library
    outside = {
        f"{module}: {name}"
        for module in agent_modules
        for name in graph.third_party[module]
        if not _distributions(name) & allowed
    }
    assert outside == set(), "the agent extra would not install these"
    for heavy in ("dagster", "torch", "spacy", "presidio-analyzer", "great-expectations", "dagster-k8s"):
        assert heavy not in allowed


def _write(root: Path, module: str, source: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.parents:
        if parent == root:
            break
        (parent / "__init__.py").touch()
    path.write_text(source, encoding="utf-8")


def test_the_checks_catch_each_kind_of_violation(tmp_path: Path) -> None:
    _write(tmp_path, "transcript_foundry.quality.gate", "import dagster\nfrom sensors.x import y\n")
    _write(tmp_path, "sensors.x", "y = 1\n")
    _write(tmp_path, "resources.ledger", "from transcript_assets.jobs import job\n")
    _write(tmp_path, "transcript_assets.jobs", "job = 1\n")
    _write(tmp_path, "io_managers.store", "import transcript_assets.jobs\n")
    _write(tmp_path, "node_agent.app", "from dagster import asset\nfrom resources.ledger import Ledger\n")
    _write(tmp_path, "transcript_foundry.pool.a", "def f():\n    from transcript_foundry.pool.b import g\n")
    _write(tmp_path, "transcript_foundry.pool.b", "from transcript_foundry.pool import a\n")
    bad = build_graph(tmp_path)
    problems = "\n".join(layering_violations(bad))
    assert "transcript_foundry.quality.gate imports sensors.x: the library imports no app package" in problems
    assert (
        "transcript_foundry.quality.gate imports dagster: the transcript_foundry package imports no Dagster"
        in problems
    )
    assert "resources.ledger imports transcript_assets.jobs" in problems
    assert "io_managers.store imports transcript_assets.jobs" in problems
    assert "node_agent.app imports resources.ledger: node_agent/ imports only the library" in problems
    assert "node_agent.app imports dagster" in problems
    assert import_cycles(bad) == [["transcript_foundry.pool.a", "transcript_foundry.pool.b"]]
