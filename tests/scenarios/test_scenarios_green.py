"""Each new scenario runs green in lockstep on memory + sqlite (small example counts)."""

from __future__ import annotations

import pytest

from parity.suites.registry import discover_scenarios
from tests.scenarios.conftest import Runner

NAMES = ["concurrency", "idempotency", "outbox", "pagination", "authz"]


def test_scenarios_register_under_their_names() -> None:
    assert set(NAMES) <= set(discover_scenarios())


@pytest.mark.parametrize("name", NAMES)
def test_scenario_is_green_on_healthy_backends(healthy: Runner, name: str) -> None:
    machine = discover_scenarios()[name]
    outcome = healthy.run(machine, examples=6, steps=8, label=f"green_{name}")
    assert outcome.error is None, outcome.error
    assert outcome.examples >= 6
