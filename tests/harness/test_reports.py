from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from parity.report import ReportBuilder, ReportError, RunReport, merge_reports, write_all
from parity.report.events import (
    CellResult,
    DivergenceFound,
    EventBus,
    RunFinished,
    RunStarted,
    ScenarioFinished,
    ScenarioStarted,
)
from parity.report.terminal import TerminalHandler


def build(backends: list[str], failing: str | None = None, machine: str = "m1") -> RunReport:
    builder = ReportBuilder()
    bus = EventBus([builder])
    bus.emit(
        RunStarted(
            "run1",
            "memory",
            backends,
            ["scenarios"],
            7,
            10,
            {b: {"name": b, "backend": b, "version": "1"} for b in backends},
            {"python": "3.11"},
            machine,
        )
    )
    bus.emit(ScenarioStarted("scenarios", "ledger", backends))
    cells = {b: CellResult("pass", examples=10, steps=100, seconds=0.5) for b in backends}
    if failing:
        bus.emit(
            DivergenceFound(
                "div-1",
                "scenarios",
                "ledger",
                [failing],
                3,
                4,
                "GET /x",
                "step 3: GET /x\n  body.n: memory=1 " + failing + "=2",
                "reports/failures/t.json",
                "parity replay reports/failures/t.json",
            )
        )
        cells[failing] = CellResult("fail", "divergence at step 3", 10, 100, 0.5, "div-1")
    bus.emit(
        ScenarioFinished(
            "scenarios",
            "ledger",
            cells,
            1.5,
            10,
            100,
            {"backend_seconds": {b: 0.5 for b in backends}},
        )
    )
    bus.emit(
        ScenarioFinished(
            "scenarios",
            "ttl",
            {"memory": CellResult("pass"), backends[-1]: CellResult("unsupported", "needs ttl")},
            0.1,
        )
    )
    report = builder.report
    bus.emit(RunFinished(report.verdict_exit_code(), 2.0))
    return report


def test_all_four_files_are_written(tmp_path: Path) -> None:
    paths = write_all(build(["memory", "sqlite"]), tmp_path)
    assert sorted(p.name for p in paths) == ["index.html", "junit.xml", "parity.json", "summary.md"]


def test_json_report_is_versioned_and_loads_back(tmp_path: Path) -> None:
    report = build(["memory", "sqlite"], failing="sqlite")
    write_all(report, tmp_path)
    data = json.loads((tmp_path / "parity.json").read_text())
    assert data["schema_version"] == 2 and data["exit_code"] == 1
    assert data["cells"]["scenarios/ledger"]["sqlite"]["status"] == "fail"
    assert data["summary"]["unsupported"] == 1
    assert RunReport.load(tmp_path / "parity.json").to_dict() == report.to_dict()


def test_junit_parses_and_counts_failures(tmp_path: Path) -> None:
    write_all(build(["memory", "sqlite"], failing="sqlite"), tmp_path)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "1", "1")
    failure = root.find(".//testcase[@name='sqlite']/failure")
    assert failure is not None and "body.n: memory=1 sqlite=2" in (failure.text or "")
    assert "parity replay" in (failure.text or "")


def test_html_is_self_contained_with_matrix_and_diff(tmp_path: Path) -> None:
    write_all(build(["memory", "sqlite"], failing="sqlite"), tmp_path)
    html = (tmp_path / "index.html").read_text()
    assert '<table id="matrix">' in html
    assert '<td class="fail"' in html and '<td class="unsupported"' in html
    assert "parity replay reports/failures/t.json" in html
    assert "memory=1 sqlite=2" in html
    assert "<script src" not in html and "<link" not in html


def test_markdown_summary_has_verdict_and_table(tmp_path: Path) -> None:
    write_all(build(["memory", "sqlite"]), tmp_path)
    text = (tmp_path / "summary.md").read_text()
    assert text.startswith("# Parity: no divergence")
    assert "| scenarios/ledger | 🔵 reference | ✅ pass |" in text


def test_merge_joins_machines_and_keeps_the_worst_cell() -> None:
    a = build(["memory", "sqlite"], machine="a")
    b = build(["memory", "postgres@local"], failing="postgres@local", machine="b")
    merged = merge_reports([a, b])
    assert merged.backends == ["memory", "sqlite", "postgres@local"]
    assert merged.machines == ["a", "b"]
    row = merged.cells["scenarios/ledger"]
    assert row["memory"]["status"] == "pass" and row["memory"]["examples"] == 20
    assert row["postgres@local"]["status"] == "fail"
    assert merged.exit_code == 1 and len(merged.divergences) == 1


def test_load_rejects_what_is_not_a_report(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"kind": "parity-trace"}')
    with pytest.raises(ReportError, match="not a parity report"):
        RunReport.load(path)


def test_terminal_handler_prints_matrix_and_verdict() -> None:
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    handler = TerminalHandler(Console(file=out, width=120), quiet=True)
    bus = EventBus([handler])
    bus.emit(RunStarted("r", "memory", ["memory", "sqlite"], ["scenarios"], 1, 5, {}, {}, "m"))
    bus.emit(ScenarioStarted("scenarios", "ledger", ["memory", "sqlite"]))
    bus.emit(
        ScenarioFinished(
            "scenarios", "ledger", {"memory": CellResult("pass"), "sqlite": CellResult("fail")}, 1.0
        )
    )
    bus.emit(RunFinished(1, 1.0))
    text = out.getvalue()
    assert "scenarios/ledger" in text and "sqlite: fail" in text and "divergence" in text
