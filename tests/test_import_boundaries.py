"""Imports point one way: the framework never imports its customers.

- ``parity/`` imports nothing from ``reference_app``, ``scenarios`` or ``examples`` (not at
  module level, not inside a function, not by ``importlib`` with a literal name);
- ``reference_app/`` (the app) imports nothing from Parity or its scenarios;
- the reference app's Parity suite (``scenarios/``) and the example apps use Parity only
  through its public front door, ``from parity import ...``.

Every ``.py`` file is parsed (AST), so a new import anywhere fails this test.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = ("reference_app", "scenarios", "examples", "bookshelf")


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in ``path``, including ``import_module("x")``."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imported_modules(path):
            if module.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


def test_parity_imports_none_of_its_customers() -> None:
    assert offenders("parity", CUSTOMERS) == []


def test_the_reference_app_does_not_know_parity() -> None:
    assert offenders("reference_app", ("parity", "scenarios")) == []


@pytest.mark.parametrize("package", ["scenarios", "examples"])
def test_customers_use_only_the_public_api(package: str) -> None:
    if not (ROOT / package).is_dir():
        pytest.skip(f"no {package}/ here")
    internal = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imported_modules(path):
            if module.startswith("parity."):
                internal.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert internal == []


def test_the_checker_sees_lazy_and_dynamic_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import importlib\n"
        "def f():\n"
        "    from reference_app.settings import Settings\n"
        "    return importlib.import_module('scenarios.binding')\n"
    )
    assert [m for _, m in imported_modules(sample)] == [
        "importlib",
        "reference_app.settings",
        "scenarios.binding",
    ]
