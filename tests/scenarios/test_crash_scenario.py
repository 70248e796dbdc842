"""The crash scenario: green on atomic backends, and it catches a non-atomic one.

The planted backend (``crash-split-outbox-sqlite``, :mod:`scenarios.migration_bugs.sql`)
runs in a subprocess (``python -m scenarios.migration_bugs`` registers it). The fast
proof that a crash exposes it is in :mod:`tests.scenarios.test_crash_seam` (always run).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from parity.suites.registry import discover_scenarios
from tests.scenarios.conftest import Runner

ROOT = Path(__file__).resolve().parents[2]
#: the run finds it in under a minute and shrinks it in two or three on a loaded machine
TIMEOUT = 900


def test_crash_scenario_is_green_on_atomic_backends(healthy: Runner) -> None:
    machine = discover_scenarios()["crash"]
    outcome = healthy.run(machine, examples=8, steps=10, label="green_crash")
    assert outcome.error is None, outcome.error
    assert outcome.examples >= 8


@pytest.mark.slow  # 2-4 min on a busy machine, mostly shrinking: the nightly tier
def test_crash_scenario_catches_a_backend_that_commits_its_outbox_separately(
    tmp_path: Path,
) -> None:
    argv = [sys.executable, "-W", "ignore", "-m", "scenarios.migration_bugs", "run"]
    argv += ["--backends", "memory,fault:crash-split-outbox-sqlite", "--scenarios", "crash"]
    argv += ["--examples", "30", "--seed", "1", "--no-regressions"]
    argv += ["--report-dir", str(tmp_path)]
    try:
        done = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - the regression itself
        pytest.fail(f"the run never exited after {TIMEOUT}s:\n{exc.stdout!r}")
    assert done.returncode == 1, (done.stdout[-3000:], done.stderr[-3000:])
    report = json.loads((tmp_path / "parity.json").read_text())
    (divergence,) = report["divergences"]
    assert divergence["backends"] == ["fault:crash-split-outbox-sqlite"]
    paths = [call["path"] for call in divergence["calls"]]
    assert "/_parity/crash/arm" in paths and "/_parity/restart" in paths
    crashed = paths.index("/_parity/crash/arm") + 1
    assert divergence["calls"][crashed]["status"] == {
        "memory": 500,
        "fault:crash-split-outbox-sqlite": 500,
    }
    # shrunk to: sign up, open a card, arm, the crashed request, restart, one read
    assert len(divergence["calls"]) <= 8, paths


def test_a_faulty_backend_survives_the_crash_seams_restart() -> None:
    """``POST /_parity/restart`` reopens the backend: a planted fault's backend must reopen
    too (it answered 500 there, so any ``fault:*`` engine "diverged" on every restart)."""
    from reference_app.backends.memory import MemoryBackend
    from scenarios.faults.base import FaultyBackend, LostUpdateUoW

    backend = FaultyBackend(MemoryBackend("ns"), LostUpdateUoW)
    reopened = backend.reopen()
    assert isinstance(reopened, FaultyBackend) and reopened is not backend
    assert isinstance(reopened.inner, MemoryBackend)
    assert reopened.inner.store is backend.inner.store  # the same store, a new handle
    assert reopened.state is backend.state
    assert isinstance(reopened.unit_of_work(), LostUpdateUoW)  # and the same bug
