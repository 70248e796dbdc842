"""A bug is never an error, also in a free race: a backend that breaks the sequential
model when requests really overlap (:mod:`tests.scenarios.race_faults`) is a divergence on
that backend, with the calls so far and each backend's verdict, and the reference is not
``error`` — even though whether a race overlaps is up to the scheduler, so Hypothesis may
not see the failure again when it replays.

The run is a subprocess (``python -m tests.scenarios.race_faults``, which registers the
fault) because the run exiting after its verdict is part of what is checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAULT = "fault:race-500"
#: seconds: well under a minute on an idle machine, several on a loaded one
TIMEOUT = 900


def test_a_backend_that_fails_a_free_race_diverges_and_the_reference_passes(
    tmp_path: Path,
) -> None:
    argv = [sys.executable, "-W", "ignore", "-m", "tests.scenarios.race_faults", "run"]
    argv += ["--backends", f"memory,{FAULT}", "--scenarios", "concurrency"]
    argv += ["--examples", "3", "--steps", "3", "--seed", "1", "--no-regressions"]
    argv += ["--report-dir", str(tmp_path)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    report = json.loads((tmp_path / "parity.json").read_text())
    cells = report["cells"]["scenarios/concurrency"]
    assert cells[FAULT]["status"] == "fail", (cells, done.stdout[-3000:], done.stderr[-3000:])
    assert cells["memory"]["status"] != "error", cells
    assert done.returncode == 1, done.stderr[-3000:]
    (divergence,) = report["divergences"]
    assert divergence["backends"] == [FAULT]
    trace_path = Path(divergence["trace"])
    trace = json.loads(trace_path.read_text())
    step = trace["steps"][divergence["step"]]
    assert step["request"]["method"] == "CHECK" and step["request"]["label"] == "free race"
    assert step["responses"]["memory"]["normalized"]["body"]["linearizable"] is True
    verdict = step["responses"][FAULT]["normalized"]["body"]
    assert verdict["linearizable"] is False and "500" in verdict["violation"]
    # the calls before it (the race's card) are in the trace, answered by both backends
    assert divergence["step"] >= 1
    assert all(set(s["responses"]) == {"memory", FAULT} for s in trace["steps"])
    # a replay cannot re-run a race: it says so in one line (exit 2), never "no divergence"
    replay = subprocess.run(
        [*argv[:5], "replay", str(trace_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert replay.returncode == 2, replay.stdout + replay.stderr
    assert "judged each backend on" in replay.stderr and "Traceback" not in replay.stderr
