"""Helpers for tests that start or watch real processes: the ``parity`` command line and
whether a process is still running."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parity_command(*argv: str) -> list[str]:
    """``parity ARGV...`` as this interpreter runs it (warnings off: stderr is asserted)."""
    return [sys.executable, "-W", "ignore", "-m", "parity.cli", *argv]


def run_module(module: str, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGV...`` in the project root, output captured as text: the
    ``parity`` command (``parity.cli``) or a launcher that registers planted faults first."""
    return subprocess.run(
        [sys.executable, "-W", "ignore", "-m", module, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def alive(pid: int) -> bool:
    """Running (a zombie awaiting its reaper counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status
