"""A bug is never an error: a backend that answers 500 inside a held interleaving is a
divergence on that backend (the reference passes), and the run exits after its verdict.

Both run ``parity run`` in a subprocess (:mod:`tests.scenarios.held_faults` registers the
faults), because "the process exits" is the point: a held request left in flight when
its example's targets closed used to strand a pool thread, and the run printed its
verdict and then hung forever.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: the run itself takes well under a minute on an idle machine; shrinking on a loaded
#: one can take minutes, a hang never ends
TIMEOUT = 900


def _run(tmp_path: Path, fault: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    argv = [sys.executable, "-W", "ignore", "-m", "tests.scenarios.held_faults", "run"]
    argv += ["--backends", f"memory,{fault}", "--scenarios", "concurrency"]
    argv += ["--examples", "3", "--steps", "3", "--seed", "1", "--no-regressions"]
    argv += ["--report-dir", str(tmp_path)]
    try:
        done = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - the regression itself
        pytest.fail(f"the run never exited after {TIMEOUT}s:\n{exc.stdout!r}")
    report = json.loads((tmp_path / "parity.json").read_text())
    return done, report


@pytest.mark.parametrize(
    "fault",
    [
        "fault:held-500",  # deterministic: found, shrunk, replayed
        "fault:held-500-once",  # unreplayable: Hypothesis ends "flaky"
    ],
)
def test_500_inside_a_held_interleaving_is_a_divergence_on_that_backend(
    tmp_path: Path, fault: str
) -> None:
    done, report = _run(tmp_path, fault)
    cells = report["cells"]["scenarios/concurrency"]
    assert cells[fault]["status"] == "fail", (cells, done.stdout[-3000:], done.stderr[-3000:])
    assert cells["memory"]["status"] != "error", cells
    assert "Flaky" not in json.dumps(cells)
    assert done.returncode == 1, done.stderr[-3000:]
    (divergence,) = report["divergences"]
    assert divergence["backends"] == [fault]
    trace = json.loads(Path(divergence["trace"]).read_text())
    step = trace["steps"][divergence["step"]]
    assert step["responses"][fault]["raw"]["status"] == 500
    assert "x-parity-tag" in step["request"]["headers"]  # the held request itself
