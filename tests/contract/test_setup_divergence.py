"""A backend the binding's set-up hooks fail on (where the reference passes) is a
finding on that backend, not a crashed run.

``created-as-ok-contract`` answers 200 instead of 201 to a new transaction; the
reference app's ``seed_contract`` expects 201 and raises ``BindingError``. Before, that
ended ``parity run --suite contract`` with a traceback (exit 1, no report); now every
operation reports a divergence at the set-up call, whose trace (the set-up calls up to
that one) replays to the same divergence."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.processes import run_module


def _parity(*args: str) -> subprocess.CompletedProcess[str]:
    return run_module("tests.harness.signoff_faults", *args)


def test_a_backend_failing_the_set_up_diverges_there_and_replays(tmp_path: Path) -> None:
    done = _parity(
        "run",
        "--suite",
        "contract",
        "--backends",
        "memory,fault:created-as-ok-contract",
        "--examples",
        "2",
        "--seed",
        "0",
        "--no-regressions",
        "--report-dir",
        str(tmp_path),
    )
    assert done.returncode == 1, (done.stdout[-3000:], done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    report: dict[str, Any] = json.loads((tmp_path / "parity.json").read_text())
    operations = [name for name in report["cells"] if name.startswith("contract/")]
    assert operations and all(
        report["cells"][name]["fault:created-as-ok-contract"]["status"] == "fail"
        for name in operations
    ), report["cells"]
    first = report["divergences"][0]
    assert first["request"].startswith("POST /v1/cards/") and "(set-up)" in first["diff"]
    assert first["differences"] == [
        {
            "backend": "fault:created-as-ok-contract",
            "path": "status",
            "expected": 201,
            "actual": 200,
        }
    ]
    replayed = _parity("replay", first["trace"])
    assert replayed.returncode == 1, replayed.stdout[-2000:]
    assert "same divergence as recorded" in replayed.stdout, replayed.stdout[-2000:]


def test_a_set_up_answer_that_differs_is_a_divergence_there(tmp_path: Path) -> None:
    """``contract-card-ref-sqlite`` answers a card's own id as its ``request_id``: the
    seeding's ``PATCH`` of a card shows it, though the hook does not complain. Before,
    the set-up's answers were recorded but not compared, so the failure was reported at
    a later case and its trace replayed as "a DIFFERENT divergence" (at the set-up)."""
    done = run_module(
        "scenarios.migration_bugs",
        "run",
        "--suite",
        "contract",
        "--backends",
        "memory,fault:contract-card-ref-sqlite",
        "--examples",
        "2",
        "--seed",
        "0",
        "--no-regressions",
        "--fail-fast",
        "--report-dir",
        str(tmp_path),
    )
    assert done.returncode == 1, (done.stdout[-3000:], done.stderr[-3000:])
    first = json.loads((tmp_path / "parity.json").read_text())["divergences"][0]
    assert "(set-up)" in first["diff"], first["diff"]
    assert {d["path"] for d in first["differences"]} == {"body.request_id"}, first
    replayed = run_module("scenarios.migration_bugs", "replay", first["trace"])
    assert "same divergence as recorded" in replayed.stdout, replayed.stdout[-2000:]
