"""The migration bugs (``scenarios.migration_bugs``) are registered the way the sign-off
runs them: each names a scenario that exists (or the contract suite), an engine name the
engine registry accepts, and a class of issue 12 in its name and description.

No bug is run here: catching them takes minutes per bug at the ``ci`` depth, and that is
the lead's sign-off (``parity selftest --registry scenarios.migration_bugs --profile
ci``), not a unit test.
"""

from __future__ import annotations

import pytest

import scenarios.migration_bugs  # noqa: F401  (registers the bugs)
from parity.engines.base import EngineUnavailable
from parity.engines.registry import check_name
from parity.selftest.registry import FAULTS, Fault
from parity.suites.registry import discover_scenarios
from scenarios.migration_bugs.sql import BUGS

#: name prefix -> the word the description starts with (issue 12's classes)
CLASSES = {
    "time": "Time",
    "data": "Data",
    "volume": "Volume",
    "settings": "Store settings",
    "rare": "Rare path",
    "faults": "Engine faults",
    "crash": "Crash window",
    "contract": "Contract",
}


def _sql_faults() -> list[Fault]:
    return [FAULTS[bug.name] for bug in BUGS]


def test_every_sql_bug_is_registered_as_an_engine() -> None:
    assert len(BUGS) == len({bug.name for bug in BUGS})  # no name registered twice
    for bug in BUGS:
        fault = FAULTS[bug.name]
        assert (fault.base, fault.scenarios, fault.suite) == (bug.base, bug.scenarios, bug.suite)
        check_name(fault.engine_name)  # raises EngineUnavailable when unknown
    with pytest.raises(EngineUnavailable):  # the check can fail
        check_name("postgres@local+tz=Not/AZone")


@pytest.mark.parametrize("fault", _sql_faults(), ids=lambda f: f.name)
def test_a_bug_names_its_class_a_known_suite_and_an_accepted_engine(fault: Fault) -> None:
    check_name(fault.base)  # raises EngineUnavailable (one line) when unknown
    prefix = next((p for p in CLASSES if fault.name.startswith(p + "-")), None)
    assert prefix is not None, f"{fault.name}: not named <class>-<what>-<engine>"
    assert fault.description.startswith(CLASSES[prefix] + ":"), fault.description
    engine = fault.base.split("@")[0].split("+")[0]
    assert fault.name.endswith("-" + engine), (fault.name, fault.base)
    if fault.suite == "contract":
        assert prefix == "contract" and fault.scenarios == ()
    else:
        assert fault.suite == "scenarios"
        assert fault.scenarios, f"{fault.name} names no scenario that must catch it"
        unknown = set(fault.scenarios) - set(discover_scenarios())
        assert not unknown, (fault.name, unknown)


def test_each_class_is_planted_on_sqlite_and_postgres_where_it_applies() -> None:
    engines: dict[str, set[str]] = {}
    for fault in _sql_faults():
        prefix = fault.name.split("-")[0]
        engines.setdefault(prefix, set()).add(fault.base.split("@")[0].split("+")[0])
    assert set(engines) == set(CLASSES)
    for prefix, planted in engines.items():
        # store settings and engine faults need a server Parity configures or arms
        assert "postgres" in planted, prefix
        if prefix not in ("settings", "faults"):
            assert "sqlite" in planted, prefix
