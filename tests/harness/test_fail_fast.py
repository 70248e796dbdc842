"""``parity run --fail-fast``: the first failing cell ends the run, and what it did not
run is in the report as not run (never as passed, never left out)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parity.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_a_failing_run_stops_after_the_first_failing_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code = main(
        [
            "run",
            "--backends",
            "memory,fault:wrong-status",
            "--scenarios",
            "ledger,identity",
            "--examples",
            "10",
            "--steps",
            "8",
            "--seed",
            "1",
            "--fail-fast",
            "--shrink-examples",
            "0",
            "--report-dir",
            str(tmp_path),
        ]
    )
    assert code == 1
    report = json.loads((tmp_path / "parity.json").read_text())
    cells = report["cells"]
    assert cells["scenarios/ledger"]["fault:wrong-status"]["status"] == "fail"
    # the second scenario and the regression corpus were not run, and say why
    skipped = [key for key in cells if key != "scenarios/ledger"]
    assert "scenarios/identity" in skipped
    assert any(key.startswith("regressions/") for key in skipped)
    for key in skipped:
        for cell in cells[key].values():
            assert cell["status"] == "skipped", (key, cell)
            assert cell["reason"] == "not run: --fail-fast stopped the run at scenarios/ledger"
            assert cell["examples"] == 0
    assert report["scenarios"]["scenarios/identity"]["seconds"] == 0.0
    assert report["summary"]["skipped"] == 2 * len(skipped)
    assert len(report["divergences"]) == 1  # its trace is saved, unshrunk
    assert Path(report["divergences"][0]["trace"]).is_file()


def test_fail_fast_with_workers_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "-n", "2", "--fail-fast", "--report-dir", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert err == "parity: error: --fail-fast runs in one process: leave out -n/--workers\n"
