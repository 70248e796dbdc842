"""A pytest run of ``parity_check`` is interrupted as ``parity run`` is: Ctrl-C or
SIGTERM handled inside Hypothesis's gc callback (where Python swallows the
``KeyboardInterrupt``) still ends the run, through pytest's own interrupt path (exit 2,
fixtures torn down), instead of running every remaining example (Ctrl-C) or dying
without a ``finally`` (SIGTERM). See :mod:`parity.interrupts`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The third example collects garbage with the signal armed: its handler runs inside the
# gc callback, as it does when the signal lands during one of Hypothesis's collections.
USER_TEST = """
import gc, os, signal
from pathlib import Path

from scenarios.ledger import LedgerScenario

# as in a terminal, also when this runs in a background job (SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)
examples = []
armed = []


def callback(phase, info):
    if phase == "start" and armed:
        armed.clear()
        os.kill(os.getpid(), signal.{signal})
        for _ in range(1000):  # the handler runs at one of these bytecode boundaries
            pass


gc.callbacks.append(callback)


class SignalledOnTheThirdExample(LedgerScenario):
    def __init__(self):
        super().__init__()
        examples.append(1)
        if len(examples) == 3:
            armed.append(True)
            gc.collect()


def test_interrupted(parity_check):
    try:
        parity_check(SignalledOnTheThirdExample, examples=200, steps=8)
    finally:
        Path("examples.txt").write_text(str(len(examples)))
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_swallowed_in_a_gc_callback_still_interrupts_parity_check(
    tmp_path: Path, sig: signal.Signals
) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST.format(signal=sig.name))
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore",
         "--parity-backends", "memory,sqlite", "--parity-report-dir", str(tmp_path / "out"),
         "test_user.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")},
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    # pytest's interrupted exit: not a pass after 200 examples, not death by SIGTERM (-15)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    assert "KeyboardInterrupt" in out
    ran = int((tmp_path / "examples.txt").read_text())  # written by the test's finally
    assert 3 <= ran < 10, f"{ran} examples ran after the interrupt\n{out}"
