"""The saved forced-interleaving trace: passes on healthy backends, and reproduces the
lost update on the planted fault it was shrunk from (pause points replayed exactly)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.processes import parity_command

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures/regressions/interleaved-lost-update.json"


def _replay(backends: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        parity_command("replay", str(FIXTURE), "--backends", backends, *flags),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fixture_passes_on_healthy_backends() -> None:
    result = _replay("memory,sqlite", "--without-diverged")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "replaying without fault:interleaved-lost-update" in result.stdout
    assert "no divergence: 8 step(s)" in result.stdout


def test_dropping_the_diverged_backend_is_refused() -> None:
    result = _replay("memory,sqlite")
    assert result.returncode == 2
    assert "leaves out fault:interleaved-lost-update" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_fixture_reproduces_the_divergence_on_the_fault() -> None:
    result = _replay("memory,fault:interleaved-lost-update")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "same divergence as recorded (step 5 of 8)" in result.stdout
