"""``--suite scenarios``: every registered lockstep scenario on every backend."""

from __future__ import annotations

from parity.run.context import RunContext
from parity.run.scenario import run_scenario
from parity.suites.registry import discover_scenarios


def run(ctx: RunContext) -> None:
    for machine in discover_scenarios(ctx.config.scenarios).values():
        run_scenario(ctx, machine)
