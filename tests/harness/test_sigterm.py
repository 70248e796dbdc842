"""A cancelled run (SIGTERM, as CI sends on a cancelled job) stops the engines it started
instead of orphaning them: here a throwaway PostgreSQL cluster."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from parity.engines.registry import create_engine
from tests.processes import alive, parity_command

ROOT = Path(__file__).resolve().parents[2]


def _postgres_children(pid: int) -> list[int]:
    """PostgreSQL processes started (directly or via runuser) by process ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and "postgres" in cmdline:
            found.append(int(entry.name))
    return found


def test_sigterm_mid_run_exits_2_and_stops_the_postgres_it_started(tmp_path: Path) -> None:
    reason = create_engine("postgres@local").probe()
    if reason is not None:
        pytest.skip(f"postgres@local unavailable: {reason}")
    argv = ["run", "--backends", "memory,postgres@local", "--examples", "1000"]
    argv += ["--report-dir", str(tmp_path), "--no-regressions"]
    proc = subprocess.Popen(
        parity_command(*argv),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        started: list[int] = []
        while not started and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            started = _postgres_children(proc.pid)
        assert started, "the run never started its PostgreSQL"
        time.sleep(2)  # well into the scenarios
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, err
    assert "parity: interrupted" in err and "Traceback" not in err
    deadline = time.monotonic() + 15
    while any(alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in started), "PostgreSQL left running"
