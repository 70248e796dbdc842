"""An engine that lacks a capability is reported "unsupported", never failed or passed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from parity.engines.base import EngineUnavailable
from parity.engines.registry import create_engine
from tests.processes import parity_command


def test_dynalite_cells_are_unsupported_with_the_reason(tmp_path: Path) -> None:
    try:
        reason = create_engine("dynamodb@dynalite").probe()
    except EngineUnavailable as exc:
        reason = exc.reason
    if reason is not None:
        pytest.skip(f"dynamodb@dynalite unavailable: {reason}")
    result = subprocess.run(
        parity_command(
            "run",
            "--backends", "memory,sqlite,dynamodb@dynalite", "--scenarios", "ledger",
            "--examples", "2", "--seed", "1", "--report-dir", str(tmp_path),
        ),
        capture_output=True, text=True, timeout=300, env={"CI": "1", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "parity.json").read_text())
    cells = {
        (name, backend): cell
        for name, row in report["cells"].items()
        for backend, cell in row.items()
    }
    ledger = [cell for (name, backend), cell in cells.items()
              if backend == "dynamodb@dynalite" and "ledger" in name]  # fmt: skip
    assert ledger and all(c["status"] == "unsupported" for c in ledger)
    assert "TransactWriteItems" in ledger[0]["reason"]
    assert all(c["status"] == "pass" for (_, b), c in cells.items() if b != "dynamodb@dynalite")
    assert "unsupported" in (tmp_path / "summary.md").read_text()
