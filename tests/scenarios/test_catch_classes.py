"""Issue 12's classes, each proven by a porting bug its scenario must catch.

Every planted backend is the real SQLite backend with one realistic mistake:

- Time — ``sqlite+millis`` stores timestamps at millisecond precision (a ``DATETIME(3)``
  habit): ``.999999`` comes back ``.999000``. Caught by ``texture``.
- Data — ``sqlite+folded-emails`` looks e-mails up under Unicode case folding and NFKC (a
  case- and accent-insensitive collation): ``STRASSE@…`` and an NFD ``é`` find the
  account of ``straße@…``/NFC ``é``, which the app keeps apart. Caught by ``texture``.
- Volume — ``sqlite+text-sequence`` hands the relay pending events ordered by sequence as
  text (a number inside a string sort key): ``10`` goes out before ``9``. And
  ``sqlite+page-cap`` caps every listing query at 100 rows, eating the service's
  "limit + 1" probe: a full page of 100 hides the rows behind it. Caught by ``volume``.

They are registered as faults only when this module runs as ``python -m
tests.scenarios.test_catch_classes ARGV...`` (``parity ARGV...`` plus these faults), in a
subprocess of each test: never in the selftest registry, never in pytest's process.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from parity.suites.registry import discover_scenarios
from reference_app.backends.sql import SQLITE
from reference_app.backends.sql.mapping import USERS, TableSpec
from reference_app.backends.sql.unit_of_work import SqlUnitOfWork
from reference_app.backends.sqlite import SqliteBackend
from reference_app.domain.model import OutboxEvent, User
from reference_app.service_layer.unit_of_work import PageQuery
from tests.scenarios.conftest import Runner

ROOT = Path(__file__).resolve().parents[2]
#: finding takes seconds; shrinking a 100-call history on a loaded machine takes minutes
TIMEOUT = 1200
#: the API's maximum page size, as a repository that hard-codes it would
REPOSITORY_CAP = 100


def _millis(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


MILLIS = dataclasses.replace(SQLITE, name="sqlite-millis", encode_ts=_millis)


class MillisUnitOfWork(SqlUnitOfWork):
    """Every timestamp written (and every page key compared) at millisecond precision."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._dialect = MILLIS


def _folded(email: str) -> str:
    return unicodedata.normalize("NFKC", email).casefold()


class FoldedEmailUnitOfWork(SqlUnitOfWork):
    """E-mail lookups the way a case- and accent-insensitive collation compares."""

    def get_user_by_email(self, email: str) -> User | None:
        table = self._q.table(USERS)
        where = ' WHERE "ns" = ?' if self._q.ns else ""
        rows = self._query(f"SELECT {USERS.column_list} FROM {table}{where}", self._q.ns)
        users = [USERS.decode(row, self._dialect) for row in rows]
        return next((u for u in users if _folded(u.email) == _folded(email)), None)


class TextSequenceUnitOfWork(SqlUnitOfWork):
    """Pending events ordered by (subject, sequence as text), as a string sort key does."""

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        events = super().pending_events(limit)
        return sorted(events, key=lambda e: (e.subject, str(e.sequence)))


class PageCapUnitOfWork(SqlUnitOfWork):
    """Every listing query capped at the API's maximum page size."""

    def _list(
        self,
        spec: TableSpec[Any],
        filters: dict[str, Any],
        page: PageQuery,
        *,
        newest_first: bool = True,
    ) -> list[Any]:
        capped = dataclasses.replace(page, limit=min(page.limit, REPOSITORY_CAP))
        return super()._list(spec, filters, capped, newest_first=newest_first)


PLANTED: dict[str, tuple[type[SqlUnitOfWork], str, str]] = {
    # fault name: (unit of work, what is wrong, the scenario that must catch it)
    "sqlite-millis": (MillisUnitOfWork, "timestamps kept to the millisecond", "texture"),
    "sqlite-folded-emails": (
        FoldedEmailUnitOfWork,
        "e-mails compared case- and accent-insensitively",
        "texture",
    ),
    "sqlite-text-sequence": (TextSequenceUnitOfWork, "sequences sorted as text", "volume"),
    "sqlite-page-cap": (PageCapUnitOfWork, "listings capped at 100 rows", "volume"),
}


def _backend(uow_type: type[SqlUnitOfWork]) -> type[SqliteBackend]:
    class Planted(SqliteBackend):
        def unit_of_work(self) -> SqlUnitOfWork:
            uow = uow_type(self.db, self.queries)
            uow.crash = self.crash
            return uow

    return Planted


def _register() -> None:
    from parity import AppBinding, Store, register_fault
    from reference_app.bootstrap import create_app
    from scenarios.binding import ReferenceBinding

    for name, (uow_type, description, scenario) in PLANTED.items():
        backend = _backend(uow_type)

        def build(binding: AppBinding, store: Store, backend: type[SqliteBackend] = backend) -> Any:
            assert isinstance(binding, ReferenceBinding)
            settings = binding.settings_for(store)
            return create_app(settings, backend=backend.from_settings(settings))

        register_fault(name, description, build, scenarios=(scenario,), base="sqlite")


def _run(tmp_path: Path, fault: str, scenario: str, examples: int) -> dict[str, Any]:
    argv = [sys.executable, "-W", "ignore", "-m", "tests.scenarios.test_catch_classes", "run"]
    argv += ["--backends", f"memory,fault:{fault}", "--scenarios", scenario]
    argv += ["--examples", str(examples), "--seed", "1", "--no-regressions"]
    # shrinking in 30 examples, then the minimizer: the same lengths as unbounded (3, 2,
    # 13, 104 calls) in 51 s instead of ~90 s for the four
    argv += ["--report-dir", str(tmp_path), "--shrink-examples", "30"]
    try:
        done = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - a hang is the failure
        pytest.fail(f"the run never exited after {TIMEOUT}s:\n{exc.stdout!r}")
    assert done.returncode == 1, (done.stdout[-3000:], done.stderr[-3000:])
    report: dict[str, Any] = json.loads((tmp_path / "parity.json").read_text())
    return report


@pytest.mark.parametrize("name", ["texture", "volume"])
def test_the_class_scenarios_are_green_on_healthy_backends(healthy: Runner, name: str) -> None:
    machine = discover_scenarios()[name]
    outcome = healthy.run(machine, examples=4, steps=6, label=f"green_{name}")
    assert outcome.error is None, outcome.error
    assert outcome.examples >= 4


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "max_calls"),
    [
        ("sqlite-millis", 4),  # tick, sign up, its read-back (not .000000)
        ("sqlite-folded-emails", 4),  # two sign-ups: 201 vs 409
        ("sqlite-text-sequence", 15),  # sign up, card, nine purchases, a relay, its deliveries
        ("sqlite-page-cap", 104),  # sign up, card, 101 purchases, a page of 100
    ],
)
def test_each_class_catches_its_planted_bug(
    tmp_path: Path, fault: str, max_calls: int, record_property: Any
) -> None:
    scenario = PLANTED[fault][2]
    report = _run(tmp_path, fault, scenario, examples=30)
    assert report["cells"][f"scenarios/{scenario}"][f"fault:{fault}"]["status"] == "fail"
    (divergence,) = report["divergences"]
    assert divergence["backends"] == [f"fault:{fault}"]
    shrunk = len(divergence["calls"])
    record_property("shrunk_calls", shrunk)
    print(f"{fault}: caught by {scenario}, shrunk to {shrunk} calls")
    assert shrunk <= max_calls, [call["path"] for call in divergence["calls"]]


if __name__ == "__main__":
    from parity.cli import main

    _register()
    sys.exit(main(sys.argv[1:]))
