"""``parity selftest --registry MODULE --profile NAME``: a sign-off set of planted bugs,
kept apart from the project's selftest faults, run at a profile's depth, each by the
suite it names (``register_fault(suite="contract")``), with the results kept as
``selftest.json``/``selftest.md``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.processes import run_module

REGISTRY = "tests.harness.signoff_faults"


def _selftest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_module("parity.cli", "selftest", *args, "--report-dir", str(tmp_path), timeout=900)


def test_a_registry_runs_at_a_profiles_depth_each_fault_by_its_suite(tmp_path: Path) -> None:
    done = _selftest(tmp_path, "--registry", REGISTRY, "--profile", "ci", "--examples", "10")
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    results: dict[str, Any] = json.loads((tmp_path / "selftest.json").read_text())
    # only the registry's faults: none of [tool.parity] selftest's (wrong-status, ...)
    faults = {f["fault"]: f for f in results["faults"]}
    assert set(faults) == {"created-as-ok-ledger", "created-as-ok-contract"}
    # the flag wins over the profile; the rest is the ci profile's
    assert results["depth"] == {
        "examples": 10,
        "steps": 15,
        "shrink_examples": 100,
        "scenario_max_examples": {"volume": 50},
    }
    ledger, contract = faults["created-as-ok-ledger"], faults["created-as-ok-contract"]
    assert ledger["caught"] and ledger["where"] == "scenarios ledger", ledger
    assert contract["caught"] and contract["where"].startswith("contract "), contract
    for fault in (ledger, contract):
        assert fault["ok"] and fault["replays"] and 0 < fault["steps"] <= 8, fault
    table = (tmp_path / "selftest.md").read_text()
    assert "| `created-as-ok-contract` |" in table and "caught" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--registry", "no_such_module_here"], "cannot import"),
        (["--profile", "no-such-profile"], "unknown profile"),
        (["--registry", REGISTRY, "--faults", "nope"], "unknown fault(s) nope"),
    ],
)
def test_a_mistake_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = _selftest(tmp_path, *args)
    assert done.returncode == 2, (done.stdout[-2000:], done.stderr[-2000:])
    assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
