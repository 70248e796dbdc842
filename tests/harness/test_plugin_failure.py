"""The pytest plugin's red minute: a failing ``parity_check`` shows the shrunk calls and
the diff, minimized as ``parity run`` minimizes them, saves the trace under the report
dir, prints a replay command that works, and keeps app logs in a file instead of the
test's captured output."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.processes import parity_command

ROOT = Path(__file__).resolve().parents[2]

# Every transaction is posted after a read of its card (bookkeeping a user's model may
# do): Hypothesis cannot drop that read without the post, the minimizer can.
USER_TEST = """
from scenarios.ledger import LedgerScenario


class ReadBeforePost(LedgerScenario):
    def _post(self, card, body, key=None):
        self.call("GET", f"/v1/cards/{card.id}", token=card.owner.token)
        return super()._post(card, body, key)


def test_ledger_in_lockstep(parity_check):
    parity_check(ReadBeforePost, examples=30, steps=8)
"""


def test_a_failing_parity_check_shows_calls_saves_the_trace_and_logs_to_a_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    report_dir = tmp_path / "out dir"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore",
            "--parity-backends",
            "memory,fault:wrong-status",
            "--parity-seed",
            "1",
            "--parity-report-dir",
            str(report_dir),
            "test_user.py",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")},
    )
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "parity divergence in ledger: fault:wrong-status differ from memory" in out
    assert "#0 POST /v1/users" in out and "<< diverges" in out
    # minimized: the read before the diverging post is gone, the count says from what
    counts = re.search(r"calls \((\d+); minimized from (\d+)\):", out)
    assert counts is not None, out
    shown, before = (int(n) for n in counts.groups())
    assert shown < before and "GET /v1/cards/" not in out, out
    assert out.index("#0 POST /v1/users") < out.index("status: memory=201  fault:wrong-status=200")
    assert "Captured log" not in out and "WARNING" not in out
    log = report_dir / "pytest-app.log"
    assert log.is_file() and "app logs: 'out dir/pytest-app.log'" in out  # pasteable
    traces = sorted((report_dir / "failures").glob("ledger--*.json"))
    assert len(traces) == 1
    steps = json.loads(traces[0].read_text())["steps"]
    assert len(steps) == shown and all(s["request"]["method"] == "POST" for s in steps)
    line = next(ln for ln in out.splitlines() if ln.startswith("replay: parity replay"))
    command = shlex.split(line.split(": ", 1)[1])
    assert tmp_path / command[2] == traces[0]  # relative to where pytest ran
    replayed = subprocess.run(
        parity_command(*command[1:]), capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert replayed.returncode == 1 and "same divergence as recorded" in replayed.stdout
