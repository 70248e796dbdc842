"""``--suite scenarios``: every registered lockstep scenario on every backend."""

from __future__ import annotations

from parity.run.backends import InfraError
from parity.run.context import RunContext
from parity.run.scenario import run_scenario
from parity.suites.registry import discover_scenarios


def run(ctx: RunContext) -> None:
    found = discover_scenarios(ctx.config.scenarios)
    wanted = ctx.scenario_filter or list(found)
    missing = [name for name in wanted if name not in found]
    if missing:
        raise InfraError(f"unknown scenario(s) {', '.join(missing)}; known: {', '.join(found)}")
    for name in wanted:
        run_scenario(ctx, found[name])
