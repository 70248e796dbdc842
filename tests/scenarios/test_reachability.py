"""Every documented path of a scenario is reached within the ``ci`` profile's budget.

A green run proves parity only for what it exercised, and the ``ci`` profile (200
examples of 15 steps; volume, whose examples are long histories, 50) is what a team signs
a migration off on: a path its coverage table
shows at 0 (texture's "sub-second times in one listing" once, when the clock's creep
filled the first second and pinned every later time at ``.999999``) is a bug class the
run cannot catch. Which paths an example reaches depends on what Hypothesis generates and
on the reference's answers, not on the other backends (they run the same calls in
lockstep), so memory alone measures it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.config import load_config
from parity.lockstep.coverage import gaps
from parity.suites.registry import discover_scenarios
from tests.scenarios.conftest import Runner

#: the ``ci`` profile (pyproject.toml, [tool.parity.profiles.ci]): its depth is checked
CI = load_config(Path(__file__).resolve().parents[2] / "pyproject.toml").profile("ci")


def _ci_examples(name: str) -> int:
    assert CI.examples is not None
    return min(CI.examples, dict(CI.scenario_max_examples or ()).get(name, CI.examples))


@pytest.fixture(scope="module")
def memory() -> Iterator[Runner]:
    runner = Runner(["memory"])
    yield runner
    runner.close()


def test_scenarios_with_documented_paths_are_all_checked_here() -> None:
    documented = {name for name, machine in discover_scenarios().items() if machine.paths}
    assert documented == {"texture", "volume"}, "add the new one to the parametrize below"


@pytest.mark.parametrize(
    ("name", "seed"),
    [("texture", 0), ("texture", 1), pytest.param("volume", 0, marks=pytest.mark.slow)],
)
def test_every_documented_path_is_reached_at_ci_depth(memory: Runner, name: str, seed: int) -> None:
    machine = discover_scenarios()[name]
    assert CI.steps is not None
    examples = _ci_examples(name)
    outcome = memory.run(
        machine, examples=examples, steps=CI.steps, seed=seed, label=f"reach_{name}"
    )
    assert outcome.error is None, outcome.error
    reached = outcome.coverage["paths"]
    assert set(reached) == set(machine.paths)
    assert gaps(outcome.coverage, ["memory"]) == [], reached
