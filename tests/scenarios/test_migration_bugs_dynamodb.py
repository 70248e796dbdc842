"""The DynamoDB migration bugs are well-formed: each names a scenario (or the contract
suite) that exists and an engine base Parity accepts, and every class of issue 12 that
applies to DynamoDB has one.

No bug runs here (each takes a minute on moto): ``parity selftest --registry
scenarios.migration_bugs`` runs them. The registry is read in a subprocess, so pytest's
process never holds the planted ``fault:`` engines.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from parity.engines.registry import check_name
from parity.selftest.registry import FAULT_SUITES
from parity.suites.registry import discover_scenarios

ROOT = Path(__file__).resolve().parents[2]
#: issue 12's classes (Store settings does not apply: see the module's docstring)
CLASSES = ("Time", "Data", "Volume", "Rare paths", "Engine faults", "Crash windows", "Contract")

_DUMP = """
import json
import scenarios.migration_bugs.dynamodb
from parity.selftest.registry import FAULTS
print(json.dumps([
    {"name": f.name, "description": f.description, "scenarios": list(f.scenarios),
     "base": f.base, "suite": f.suite}
    for f in FAULTS.values()
    if getattr(f.build_app, "__module__", "") == "scenarios.migration_bugs.dynamodb"
]))
"""


@pytest.fixture(scope="module")
def bugs() -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", _DUMP], cwd=ROOT, capture_output=True, text=True, check=True
    )
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def test_every_applicable_class_has_a_bug(bugs: list[dict[str, Any]]) -> None:
    classes = {bug["description"].partition(":")[0] for bug in bugs}
    assert classes == set(CLASSES), classes
    assert len(bugs) >= len(CLASSES)


def test_each_bug_names_what_catches_it_and_a_base_parity_accepts(
    bugs: list[dict[str, Any]],
) -> None:
    known = set(discover_scenarios())
    for bug in bugs:
        name = bug["name"]
        assert name.endswith("-dynamodb"), name
        kind = bug["description"].partition(":")[0]
        assert name.startswith(kind.split()[0].lower() + "-"), (name, kind)
        assert bug["suite"] in FAULT_SUITES, bug
        if bug["suite"] == "contract":
            assert bug["scenarios"] == [], bug
        else:
            assert bug["scenarios"] and set(bug["scenarios"]) <= known, bug
        assert bug["base"].partition("+")[0] == "dynamodb@moto-server", bug
        check_name(bug["base"])  # raises EngineUnavailable for an unknown name or modifier
