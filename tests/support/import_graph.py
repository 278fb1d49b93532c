"""The project's import graph, read from the source with ``ast`` (nothing is imported), and the layering
rules of DESIGN.md §2 checked against it."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

LIBRARY = "transcript_foundry"
DAGSTER_LAYER = ("transcript_assets", "resources", "sensors", "executors", "io_managers")
AGENT = "node_agent"
PACKAGES = (LIBRARY, *DAGSTER_LAYER, AGENT)


@dataclass
class ImportGraph:
    root: Path
    modules: dict[str, Path] = field(default_factory=dict)
    first_party: dict[str, set[str]] = field(default_factory=dict)  # module -> project modules it imports
    third_party: dict[str, set[str]] = field(default_factory=dict)  # module -> top-level external names

    def package_of(self, module: str) -> str:
        return module.split(".")[0]


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterable[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            for alias in node.names:
                yield f"{prefix}.{alias.name}"  # a submodule, or a name inside ``prefix``


def build_graph(root: Path, packages: Iterable[str] = PACKAGES) -> ImportGraph:
    graph = ImportGraph(root)
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            graph.modules[_module_name(root, path)] = path
    for module, path in graph.modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        inner: set[str] = set()
        outer: set[str] = set()
        for name in _imported_names(tree, module, path.name == "__init__.py"):
            top = name.split(".")[0]
            if top in packages:
                # the deepest project module the name refers to
                parts = name.split(".")
                while parts and ".".join(parts) not in graph.modules:
                    parts.pop()
                if parts and ".".join(parts) != module:
                    inner.add(".".join(parts))
            elif top and top not in sys.stdlib_module_names and top != "__future__":
                outer.add(top)
        graph.first_party[module] = inner
        graph.third_party[module] = outer
    return graph


def layering_violations(graph: ImportGraph) -> list[str]:
    """Each import that breaks a rule, as 'module imports target: rule'."""
    problems = []
    for module, targets in sorted(graph.first_party.items()):
        package = graph.package_of(module)
        for target in sorted(targets):
            target_package = graph.package_of(target)
            if package == LIBRARY and target_package != LIBRARY:
                problems.append(f"{module} imports {target}: the library imports no app package")
            elif package in ("resources", "io_managers") and target_package == "transcript_assets":
                problems.append(f"{module} imports {target}: {package}/ may not import transcript_assets/")
            elif package == AGENT and target_package not in (AGENT, LIBRARY):
                problems.append(f"{module} imports {target}: node_agent/ imports only the library")
        for name in sorted(graph.third_party[module]):
            if name.startswith("dagster") and package in (LIBRARY, AGENT):
                problems.append(f"{module} imports {name}: the {package} package imports no Dagster")
    return problems


def import_cycles(graph: ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.first_party.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for module in sorted(graph.first_party):
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    return cycles


def reachable(graph: ImportGraph, start: Iterable[str]) -> set[str]:
    """Every project module the ``start`` modules import, directly or not (themselves included)."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(graph.first_party.get(module, ()))
    return seen
