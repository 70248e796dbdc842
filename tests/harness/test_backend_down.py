"""A store that dies mid-run is an infrastructure error (exit 2), never a divergence; a
503 from a backend whose store is still up is an answer like any other."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from parity.engines.postgres import LocalPostgresEngine
from parity.lockstep.divergence import BackendDown, Divergence, find_backend_down
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


def _fail(name: str) -> bool:
    raise OSError("connection refused")


@pytest.mark.parametrize("alive", [lambda name: False, _fail])
def test_a_503_from_a_store_that_opens_no_namespace_is_down(alive: object) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        targets = {"memory": _Answers("memory", 201), "pg": _Answers("pg", 503)}
        driver = LockstepDriver(targets, "memory", pool, store_alive=alive)  # type: ignore[arg-type]
        with pytest.raises(BackendDown):
            driver.call("POST", "/v1/users")


def test_a_503_from_a_store_that_is_up_is_a_divergence() -> None:
    """A port whose store refuses what it sends (mapped by the app to 503) is a
    migration bug only that backend shows: compared, shrunk and replayed like any."""
    from concurrent.futures import ThreadPoolExecutor

    asked: list[str] = []

    def alive(name: str) -> bool:
        asked.append(name)
        return True

    with ThreadPoolExecutor(2) as pool:
        targets = {"memory": _Answers("memory", 201), "pg": _Answers("pg", 503)}
        driver = LockstepDriver(targets, "memory", pool, store_alive=alive)
        with pytest.raises(Divergence) as caught:
            driver.call("POST", "/v1/users")
    assert asked == ["pg"] and driver.down is None
    assert [(d.path, d.expected, d.actual) for d in caught.value.step.differences["pg"]] == [
        ("status", 201, 503)
    ]


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
