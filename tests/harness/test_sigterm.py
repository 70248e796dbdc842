"""No orphans: an interrupted run stops the engines it started instead of orphaning them.

- ``parity run`` cancelled by SIGTERM (as CI sends on a cancelled job) or SIGINT (Ctrl-C)
  stops its throwaway PostgreSQL cluster;
- a pytest-xdist worker killed outright (SIGKILL: no ``finally``, no atexit) leaves no
  PostgreSQL or moto-server process and no temp cluster behind: its watchdog
  (:mod:`parity.reaper`) reaps them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parity.engines.registry import create_engine
from tests.processes import alive, parity_command

ROOT = Path(__file__).resolve().parents[2]


def _postgres_children(pid: int, server: bool = False) -> list[int]:
    """PostgreSQL processes started (directly or via runuser) by process ``pid``; with
    ``server``, only a running server (not ``initdb``)."""
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
        if ppid == pid and "postgres" in cmdline and (not server or "postgres -D" in cmdline):
            found.append(int(entry.name))
    return found


def _sigint_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_interrupted_run_exits_2_and_stops_the_postgres_it_started(
    tmp_path: Path, sig: signal.Signals
) -> None:
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
        # Ctrl-C as in a terminal, also when these tests run in a background job (which
        # starts with SIGINT ignored, and an ignored SIGINT rightly interrupts nothing)
        preexec_fn=_sigint_as_in_a_terminal,
    )
    try:
        deadline = time.monotonic() + 60
        started: list[int] = []
        while not started and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            started = _postgres_children(proc.pid, server=True)
        assert started, "the run never started its PostgreSQL"
        time.sleep(2)  # into the scenarios (on a loaded machine: still starting up)
        proc.send_signal(sig)
        # generous for a loaded machine (teardown takes 5-10 s at a load of 15 on 2
        # cores); a lost interrupt (see parity.interrupts) ran on for many minutes
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, err
    assert "parity: interrupted" in err and "Traceback" not in err
    deadline = time.monotonic() + 15
    while any(alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in started), "PostgreSQL left running"


_WORKER_TEST = """
import json, os, time
from pathlib import Path

from parity.engines.registry import create_engine


def test_hold_engines_until_killed():
    engines = [create_engine(name) for name in {names!r}]
    for engine in engines:
        engine.start()
    data = {{"worker": os.getpid(), "engines": {{}}, "dirs": []}}
    for engine in engines:
        pids = [p for p in (getattr(engine, "pid", None), engine.server_pid()
                if hasattr(engine, "server_pid") else None) if p]
        data["engines"][engine.name] = pids
        for attr in ("data_dir", "log_dir"):
            path = getattr(engine, attr, None)
            if path is not None:
                data["dirs"].append(str(Path(path) if attr == "log_dir" else Path(path).parent))
    Path({out!r}).write_text(json.dumps(data))
    time.sleep(300)  # killed long before
"""


def test_killed_xdist_worker_leaves_no_engine_process_or_temp_cluster(tmp_path: Path) -> None:
    names = []
    for name in ("postgres@local", "dynamodb@moto-server"):
        if create_engine(name).probe() is None:
            names.append(name)
    if not names:
        pytest.skip("neither postgres@local nor dynamodb@moto-server is available here")
    out = tmp_path / "engines.json"
    (tmp_path / "test_worker.py").write_text(_WORKER_TEST.format(names=names, out=str(out)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-n", "1", "--max-worker-restart", "0",
         "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path / "test_worker.py")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not out.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert out.exists(), proc.stdout.read() if proc.stdout else "no output"
        time.sleep(0.5)  # the file is written whole; the watchdog has seen the engines
        data = json.loads(out.read_text())
        engine_pids = [p for pids in data["engines"].values() for p in pids]
        dirs = [Path(d) for d in data["dirs"]]
        assert engine_pids and all(alive(p) for p in engine_pids), data
        assert dirs and all(d.exists() for d in dirs), data
        time.sleep(1.5)  # let the watchdog take a snapshot with every engine in it
        os.kill(data["worker"], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            any(alive(p) for p in engine_pids) or any(d.exists() for d in dirs)
        ):
            time.sleep(0.2)
        left = [p for p in engine_pids if alive(p)]
        assert not left, f"engine processes left running after the worker died: {left}"
        kept = [str(d) for d in dirs if d.exists()]
        assert not kept, f"temp dirs left behind: {kept}"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
