"""Which tests can fail: an AST scan of tests/ (nothing is imported).

A test function (``test_*`` at module level or in a ``Test*`` class) can fail when its body, nested
blocks and inner functions included, has one of:

- an ``assert`` statement;
- ``pytest.raises`` / ``pytest.warns`` / ``pytest.fail`` / ``pytest.deprecated_call``;
- a call of a name starting with ``assert`` (``assert_frame_equal``, ``self.assertEqual``) or listed in
  ``EXTERNAL_CHECKS`` (checks of other libraries that raise on failure);
- a call of an *asserting helper*: a function of the same module, of ``tests/conftest.py`` or of a
  ``tests.support`` module, that itself meets these rules (found transitively, resolved by the name the
  test module binds: its own functions, ``from tests.support.x import f``, ``x.f`` after
  ``from tests.support import x``, ``self.f`` in the test's class);
- a call through a module-level registry, ``PROBES[key](...)``, when every function registered into it
  (decorated by a function of the module that stores into ``PROBES[...]``) is an asserting helper.

It also finds asserts that hold by construction: ``assert <constant>`` and a comparison of an expression
with itself (``assert x == x``, ``assert a.b <= a.b``), and ``len(x) >= 0``; a side with a call is not one, since
``f(x) == f(x)`` is how determinism is tested.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TESTS_ROOT = Path(__file__).resolve().parents[1]
PYTEST_CHECKS = frozenset({"raises", "warns", "fail", "deprecated_call"})
# Calls into other libraries that raise when what they check is false.
EXTERNAL_CHECKS = frozenset(
    {
        "call_and_validate",  # schemathesis: sends the case, validates the response against the schema
        "validate_response",  # schemathesis
        "check_returncode",  # subprocess.CompletedProcess: raises on a non-zero exit
        "raise_for_status",  # httpx / requests: raises on a 4xx / 5xx answer
    }
)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class ModuleFunctions:
    """A module's functions by name (classes' methods as ``Class.method``) and what its names bind."""

    module: str
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (module, function)
    module_aliases: dict[str, str] = field(default_factory=dict)  # name -> module


def module_name(path: Path, root: Path = TESTS_ROOT) -> str:
    return ".".join(path.relative_to(root.parent).with_suffix("").parts)


def read_module(path: Path, root: Path = TESTS_ROOT) -> ModuleFunctions:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = ModuleFunctions(module_name(path, root))
    for node in tree.body:
        if isinstance(node, _FUNCTIONS):
            found.functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, _FUNCTIONS):
                    found.functions[f"{node.name}.{item.name}"] = item
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tests"):
            for alias in node.names:
                bound = alias.asname or alias.name
                if node.module == "tests.support" or node.module == "tests":
                    found.module_aliases[bound] = f"{node.module}.{alias.name}"
                else:
                    found.imported[bound] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tests.") and alias.asname:
                    found.module_aliases[alias.asname] = alias.name
    return found


def _called_names(call: ast.Call) -> tuple[str | None, str | None]:
    """(object name or None, function name) of ``f(...)``, ``obj.f(...)``; (None, None) otherwise."""
    func = call.func
    if isinstance(func, ast.Name):
        return None, func.id
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else None
        return owner, func.attr
    return None, None


@dataclass
class SuiteScan:
    modules: dict[str, ModuleFunctions]
    _asserting: dict[tuple[str, str], bool] = field(default_factory=dict)

    @classmethod
    def of(cls, root: Path = TESTS_ROOT) -> SuiteScan:
        mods = [read_module(p, root) for p in sorted(root.rglob("*.py")) if ".venv" not in p.parts]
        return cls({m.module: m for m in mods})

    def _resolve(
        self, mod: ModuleFunctions, owner: str | None, name: str, cls: str | None
    ) -> list[tuple[str, str]]:
        if owner is None:
            if name in mod.functions:
                return [(mod.module, name)]
            if name in mod.imported:
                return [mod.imported[name]]
            return [("tests.conftest", name)]
        if owner in ("self", "cls") and cls:
            return [(mod.module, f"{cls}.{name}")]
        if owner in mod.module_aliases:
            return [(mod.module_aliases[owner], name)]
        return []

    def _registered(self, mod: ModuleFunctions, registry: str) -> list[tuple[str, str]]:
        """The module's functions decorated by a registrar of ``registry`` (a function storing into it)."""
        registrars = {
            name
            for name, fn in mod.functions.items()
            if any(
                isinstance(n, ast.Subscript)
                and isinstance(n.ctx, ast.Store)
                and isinstance(n.value, ast.Name)
                and n.value.id == registry
                for n in ast.walk(fn)
            )
        }
        out = []
        for name, fn in mod.functions.items():
            for deco in fn.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if isinstance(target, ast.Name) and target.id in registrars:
                    out.append((mod.module, name))
        return out

    def asserts(self, mod: ModuleFunctions, fn: ast.AST, cls: str | None = None) -> bool:
        """Whether ``fn`` (a function node of ``mod``) can fail by the rules of the module docstring."""
        for node in ast.walk(fn):
            if isinstance(node, ast.Assert):
                return True
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Subscript) and isinstance(node.func.value, ast.Name):
                registered = self._registered(mod, node.func.value.id)
                if registered and all(self._helper_asserts(t) for t in registered):
                    return True
            owner, name = _called_names(node)
            if name is None:
                continue
            if (owner == "pytest" and name in PYTEST_CHECKS) or name.startswith("assert"):
                return True
            if name in EXTERNAL_CHECKS:
                return True
            for target in self._resolve(mod, owner, name, cls):
                if self._helper_asserts(target):
                    return True
        return False

    def _helper_asserts(self, target: tuple[str, str]) -> bool:
        if target in self._asserting:
            return self._asserting[target]
        self._asserting[target] = False  # a cycle proves nothing
        mod = self.modules.get(target[0])
        fn = mod.functions.get(target[1]) if mod else None
        cls = target[1].split(".")[0] if "." in target[1] else None
        result = bool(mod and fn and self.asserts(mod, fn, cls))
        self._asserting[target] = result
        return result

    def tests(self) -> Iterator[tuple[ModuleFunctions, str, ast.AST, str | None]]:
        for mod in self.modules.values():
            if not mod.module.rsplit(".", 1)[-1].startswith("test_"):
                continue
            for name, fn in mod.functions.items():
                cls, _, short = name.rpartition(".")
                if short.startswith("test") and (not cls or cls.startswith("Test")):
                    yield mod, name, fn, cls or None

    def tests_without_assertion(self) -> list[str]:
        return [f"{m.module}::{name}" for m, name, fn, cls in self.tests() if not self.asserts(m, fn, cls)]


def _is_len(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"


def _is_zero(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0 and not isinstance(node.value, bool)


def _length_at_least_zero(test: ast.Compare) -> bool:
    """``len(x) >= 0`` or ``0 <= len(x)``."""
    if len(test.ops) != 1:
        return False
    left, op, right = test.left, test.ops[0], test.comparators[0]
    return (isinstance(op, ast.GtE) and _is_len(left) and _is_zero(right)) or (
        isinstance(op, ast.LtE) and _is_zero(left) and _is_len(right)
    )


def _has_call(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call | ast.Await | ast.Yield) for n in ast.walk(node))


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a) == ast.dump(b)


def tautologies(root: Path = TESTS_ROOT) -> list[str]:
    """``file:line`` of each assert of a constant or of a comparison of an expression with itself."""
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assert):
                continue
            test = node.test
            where = f"{path.relative_to(root.parent)}:{node.lineno}"
            if isinstance(test, ast.Constant):
                found.append(f"{where}: assert of a constant")
            elif isinstance(test, ast.Compare):
                operands = [test.left, *test.comparators]
                pairs = itertools.pairwise(operands)
                if any(_same(a, b) and not _has_call(a) for a, b in pairs):
                    found.append(f"{where}: compares an expression with itself")
                elif _length_at_least_zero(test):
                    found.append(f"{where}: a length is always >= 0")
    return found
