"""An interrupt is never lost: a SIGTERM or Ctrl-C that Python handles inside a
garbage-collector callback (where the ``KeyboardInterrupt`` cannot propagate and is
reported as "Exception ignored") still ends the run.

This is how an interrupted ``parity run`` went on for minutes on a loaded CI machine
(Hypothesis times every collection with a gc callback). Each case runs in a subprocess
of its own: signal handlers and ``sys.unraisablehook`` belong to the process. And once
interrupted, the process ends within a grace period even when a call is still in flight
(Python joins thread-pool threads at exit).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The signal arrives while a gc callback runs, so its handler runs inside the callback.
_PROGRAM = """
import gc, os, signal, sys, time
from parity.interrupts import interruptible

# as in a terminal, also when this test runs in a background job (SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)
armed = []

def callback(phase, info):
    if phase == "start" and armed:
        armed.clear()
        os.kill(os.getpid(), {signum})
        for _ in range(1000):  # the handler runs at one of these bytecode boundaries
            pass

gc.callbacks.append(callback)
try:
    with interruptible():
        armed.append(True)
        gc.collect()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.01)
        print("ran on")
except KeyboardInterrupt:
    print("interrupted")
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_interrupt_handled_inside_a_gc_callback_still_interrupts(sig: signal.Signals) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROGRAM.format(signum=int(sig))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.strip() == "interrupted", proc.stdout + proc.stderr
    assert "Exception ignored" not in proc.stderr, proc.stderr


def test_other_unraisable_exceptions_are_still_reported() -> None:
    program = (
        "from parity.interrupts import interruptible\n"
        "class Noisy:\n"
        "    def __del__(self):\n"
        "        raise ValueError('from __del__')\n"
        "with interruptible():\n"
        "    Noisy()\n"
        "print('done')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == "done"
    assert "ValueError: from __del__" in proc.stderr


_STUCK_AT_EXIT = """
import sys, time
from concurrent.futures import ThreadPoolExecutor
from parity.interrupts import exit_within

pool = ThreadPoolExecutor(1)
pool.submit(time.sleep, 600)  # a call in flight that a stopped store never answers
print("interrupted", flush=True)
exit_within(2, grace=1.0)
sys.exit(2)  # Python would now join the pool's thread: ten minutes
"""


def test_an_interrupted_process_ends_within_the_grace_whatever_is_in_flight() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _STUCK_AT_EXIT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == "interrupted\n"  # flushed before the forced exit
    assert time.monotonic() - started < 30
