"""``--suite scenarios``: every registered lockstep scenario on every backend."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from parity.run.backends import InfraError
from parity.run.context import RunContext
from parity.run.scenario import run_scenario
from parity.suites.registry import discover_scenarios


def check_names(found: Mapping[str, object], wanted: list[str]) -> None:
    """Raise one line naming every unknown scenario, with a "did you mean"."""
    missing = [name for name in wanted if name not in found]
    if not missing:
        return
    hints = []
    for name in missing:
        close = difflib.get_close_matches(name, list(found), n=1, cutoff=0.6)
        if close:
            hints.append(f"did you mean {close[0]!r} for {name!r}?")
    hint = " " + " ".join(hints) if hints else ""
    raise InfraError(f"unknown scenario(s) {', '.join(missing)};{hint} known: {', '.join(found)}")


def run(ctx: RunContext) -> None:
    found = discover_scenarios(ctx.config.scenarios)
    wanted = ctx.scenario_filter or list(found)
    check_names(found, wanted)
    for name in wanted:
        if not ctx.skipped("scenarios", name):
            run_scenario(ctx, found[name])
