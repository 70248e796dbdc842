"""A store that dies mid-run is an infrastructure error (exit 2), never a divergence."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from parity.engines.postgres import LocalPostgresEngine
from parity.lockstep.divergence import BackendDown, find_backend_down
from parity.lockstep.driver import LockstepDriver
from parity.targets.base import Response
from tests.processes import parity_command


class _Answers:
    """A target that answers every request with one fixed response."""

    blocking_io = False

    def __init__(self, name: str, status: int) -> None:
        self.name = name
        self.status = status

    def request(
        self,
        method: str,
        path: str,
        headers: object = None,
        json: object = None,
        body: object = None,
    ) -> Response:
        return Response(self.status, {"content-type": "application/json"}, b'{"detail":"x"}', 0.0)

    def close(self) -> None:
        return None


def test_a_503_is_backend_down_not_a_divergence() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        driver = LockstepDriver(
            {"memory": _Answers("memory", 200), "pg": _Answers("pg", 503)}, "memory", pool
        )
        with pytest.raises(BackendDown) as caught:
            driver.call("GET", "/health/readiness")
    assert caught.value.backend == "pg"
    assert driver.down is caught.value
    group = BaseExceptionGroup("many", [ValueError("x"), caught.value])
    assert find_backend_down(group) is caught.value


def test_killing_postgres_mid_run_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    engine = LocalPostgresEngine()
    reason = engine.probe()
    if reason is not None:
        pytest.skip(f"postgres@local unavailable: {reason}")
    engine.start()
    try:
        assert engine.url is not None and engine._proc is not None
        env = {**os.environ, "PARITY_POSTGRES_URL": engine.url, "CI": "1"}
        cmd = parity_command(
            "run",
            "--backends",
            "memory,postgres@url",
            "--scenarios",
            "ledger",
            "--examples",
            "100000",
            "--seed",
            "3",
            "--no-regressions",
            "--report-dir",
            str(tmp_path),
        )
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        seen: list[str] = []
        for line in proc.stdout:  # wait until the scenario is really under way
            seen.append(line)
            if "scenarios/ledger" in line:
                break
        time.sleep(3)
        os.killpg(os.getpgid(engine._proc.pid), signal.SIGQUIT)  # crash, not a clean stop
        rest, err = proc.communicate(timeout=120)
        out = "".join(seen) + rest
    finally:
        engine.stop()
    assert proc.returncode == 2, out + err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "became unavailable mid-run" in lines[0], err
    assert "Traceback" not in err
    assert "divergence" not in (out + err).lower()
    assert not list((tmp_path / "failures").glob("*.json"))
