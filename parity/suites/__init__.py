"""Suites a run can execute (``--suite``) and the scenario registry they draw from."""

from parity.suites.registry import (
    SUITES,
    SuiteNotInstalled,
    discover_scenarios,
    load_suite,
    register_scenario,
)

__all__ = ["SUITES", "SuiteNotInstalled", "discover_scenarios", "load_suite", "register_scenario"]
