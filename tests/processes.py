"""Helpers for tests that start or watch real processes: the ``parity`` command line and
whether a process is still running."""

from __future__ import annotations

import sys
from pathlib import Path


def parity_command(*argv: str) -> list[str]:
    """``parity ARGV...`` as this interpreter runs it (warnings off: stderr is asserted)."""
    return [sys.executable, "-W", "ignore", "-m", "parity.cli", *argv]


def alive(pid: int) -> bool:
    """Running (a zombie awaiting its reaper counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status
