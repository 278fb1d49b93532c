"""Every test can fail: each has an assertion (directly or through an asserting helper) and no assert
holds by construction. The rules are in tests/support/assertion_scan.py; the scan is checked here on
small examples first, so a scan that finds nothing is not mistaken for a suite without problems."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.support.assertion_scan import SuiteScan, tautologies


def _suite(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "tests"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_the_scan_tells_tests_that_can_fail_from_tests_that_cannot(tmp_path: Path) -> None:
    root = _suite(
        tmp_path,
        {
            "support/__init__.py": "",
            "support/checks.py": """
                def check_ok(x):
                    assert x

                def indirect(x):
                    check_ok(x)

                def only_prints(x):
                    print(x)
            """,
            "conftest.py": """
                def conftest_check(x):
                    assert x
            """,
            "area/test_sample.py": """
                import pytest
                from tests.support.checks import indirect, only_prints
                from tests.support import checks

                REG = {}

                def probe(key):
                    def register(fn):
                        REG[key] = fn
                        return fn
                    return register

                @probe("a")
                def _probe_a(env):
                    assert env

                def _local(x):
                    assert x == 1

                def test_plain_assert():
                    assert 1 + 1 == 2

                def test_raises():
                    with pytest.raises(ValueError):
                        int("x")

                def test_local_helper():
                    _local(1)

                def test_imported_helper_two_levels():
                    indirect(1)

                def test_module_alias_helper():
                    checks.check_ok(1)

                def test_conftest_helper():
                    conftest_check(1)

                def test_registry():
                    REG["a"](1)

                def test_assert_prefixed_call():
                    assert_frame_equal(1, 1)

                def test_no_assertion():
                    x = 1 + 1

                def test_helper_that_does_not_assert():
                    only_prints(1)

                class TestGroup:
                    def _check(self, x):
                        assert x

                    def test_method_helper(self):
                        self._check(1)

                    def test_method_without_assertion(self):
                        print("hi")

                def test_tautologies(a):
                    assert True
                    assert a.b == a.b
                    assert f(a) == f(a)
                    assert len(a) >= 0
                    assert len(a) >= 1
            """,
        },
    )
    scan = SuiteScan.of(root)
    assert sorted(scan.tests_without_assertion()) == [
        "tests.area.test_sample::TestGroup.test_method_without_assertion",
        "tests.area.test_sample::test_helper_that_does_not_assert",
        "tests.area.test_sample::test_no_assertion",
    ]
    found = tautologies(root)
    assert [f.split(": ", 1)[1] for f in found] == [
        "assert of a constant",
        "compares an expression with itself",
        "a length is always >= 0",
    ]
    assert all(f.startswith("tests/area/test_sample.py:") for f in found)


def test_every_test_in_the_suite_has_an_assertion() -> None:
    scan = SuiteScan.of()
    assert len(list(scan.tests())) > 500, "the scan found too few tests: is it reading tests/?"
    assert scan.tests_without_assertion() == []


def test_no_assert_in_the_suite_holds_by_construction() -> None:
    assert tautologies() == []
