"""Issue 13 in the report layer: the whole reproduction in every format, verdict words,
the reference never counted as "pass", run dates, merged runs, CI-friendly terminal
output, and the user mistakes that are one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest

from parity.cli import main
from parity.diff.compare import Difference
from parity.diff.normalize import NormalizedRequest
from parity.report import ReportBuilder, RunReport, merge_reports, write_all
from parity.report.events import (
    CellResult,
    DivergenceFound,
    EventBus,
    Progress,
    RunFinished,
    RunStarted,
    ScenarioFinished,
    ScenarioStarted,
)
from parity.report.terminal import TerminalHandler, plain_console
from parity.trace.model import Step, Trace
from parity.trace.store import save_trace
from tests.processes import parity_command

ROOT = Path(__file__).resolve().parents[2]
LONG = "x" * 150
DIFF = f'step 2: POST /v1/cards/<id:3>/transactions {LONG}\n!   "status": 201'


def _trace(tmp_path: Path) -> Path:
    """A 3-call trace whose last call diverges on status and one body field."""
    steps = []
    for i, (method, path, body) in enumerate(
        [
            ("POST", "/v1/users", {"name": "A", "email": "a@example.com", "score": 750}),
            ("POST", "/v1/card-requests", {}),
            ("POST", "/v1/cards/<id:3>/transactions", {"type": "purchase", "amount_cents": 5}),
        ]
    ):
        last = i == 2
        answer = {"status": 201, "headers": {}, "body": {"balance": 5}}
        other = {"status": 200, "headers": {}, "body": {"balance": 4}} if last else answer
        steps.append(
            Step(
                index=i,
                request=NormalizedRequest(method, path, {"if-match": '"1"'} if last else {}, body),
                responses={
                    "memory": {"normalized": answer, "raw": answer},
                    "sqlite": {"normalized": other, "raw": other},
                },
                differences={
                    "sqlite": [
                        Difference("status", 201, 200),
                        Difference("body.balance", 5, 4),
                    ]
                }
                if last
                else {},
                rendered={"sqlite": DIFF} if last else {},
            )
        )
    trace = Trace("ledger", "memory", ["memory", "sqlite"], seed=7, steps=steps)
    return save_trace(trace, tmp_path / "failures" / "ledger--sqlite--step2.json")


def _report(
    tmp_path: Path, machine: str = "m1", started: str = "2026-01-02T03:04:05Z"
) -> RunReport:
    trace = _trace(tmp_path)
    builder = ReportBuilder()
    bus = EventBus([builder])
    backends = ["memory", "sqlite"]
    bus.emit(RunStarted("run1", "memory", backends, ["scenarios"], 7, 10, {}, {}, machine, started))
    bus.emit(
        DivergenceFound(
            "div-1",
            "scenarios",
            "ledger",
            ["sqlite"],
            2,
            3,
            "POST /v1/cards/<id:3>/transactions",
            DIFF,
            str(trace),
            f"parity replay {trace} --backends memory,sqlite",
        )
    )
    bus.emit(
        ScenarioFinished(
            "scenarios",
            "ledger",
            {"memory": CellResult("pass"), "sqlite": CellResult("fail", divergence="div-1")},
            1.0,
        )
    )
    bus.emit(RunFinished(builder.report.verdict_exit_code(), 2.0))
    return builder.report


def test_the_json_report_carries_every_call_and_the_structured_differences(
    tmp_path: Path,
) -> None:
    report = _report(tmp_path)
    data = json.loads((write_all(report, tmp_path / "out")[0]).read_text())
    assert data["schema_version"] == 2
    div = data["divergences"][0]
    assert [c["path"] for c in div["calls"]] == [
        "/v1/users",
        "/v1/card-requests",
        "/v1/cards/<id:3>/transactions",
    ]
    assert div["calls"][2]["status"] == {"memory": 201, "sqlite": 200}
    assert div["calls"][2]["headers"] == {"if-match": '"1"'}
    assert div["calls"][0]["body"] == {"name": "A", "email": "a@example.com", "score": 750}
    assert div["differences"][1] == {
        "backend": "sqlite",
        "path": "body.balance",
        "expected": 5,
        "actual": 4,
    }


def test_html_and_markdown_show_the_calls_then_the_highlighted_diff(tmp_path: Path) -> None:
    report = _report(tmp_path)
    write_all(report, tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text()
    calls = html.index('<ol class="calls"')
    assert calls < html.index('<table class="differences"') < html.index('<span class="chg">')
    assert '<li value="2" class="diverged">POST /v1/cards/&lt;id:3&gt;/transactions' in html
    assert '<del class="exp">5</del>' in html and '<ins class="act">4</ins>' in html
    assert "memory 201, sqlite 200" in html
    md = (tmp_path / "out" / "summary.md").read_text()
    assert md.index("#0 POST /v1/users") < md.index("```diff")
    assert "- body.balance: 5  (reference)" in md and "+ body.balance: 4  (sqlite)" in md
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert "#1 POST /v1/card-requests {} -&gt; 201" in junit


def test_verdict_words_date_and_the_reference_is_not_a_pass(tmp_path: Path) -> None:
    report = _report(tmp_path)
    assert report.verdict() == "1 divergence"
    assert report.counts()["pass"] == 0  # memory is the reference, sqlite failed
    write_all(report, tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text()
    assert '<h1 class="verdict-1">1 divergence</h1>' in html and "Parity: parity" not in html
    assert "2026-01-02T03:04:05Z" in html
    assert '<td class="reference"' in html
    md = (tmp_path / "out" / "summary.md").read_text()
    assert md.startswith("# Parity: 1 divergence") and "2026-01-02T03:04:05Z" in md
    assert "🔵 reference" in md
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert 'timestamp="2026-01-02T03:04:05Z"' in junit
    clean = RunReport(reference="memory", exit_code=0)
    clean.cells = {"scenarios/ledger": {"memory": {"status": "pass"}}}
    assert clean.verdict() == "no divergence" and clean.counts()["pass"] == 0


def test_merge_lists_every_inputs_seed_machine_and_time_and_reads_version_1(
    tmp_path: Path,
) -> None:
    a = _report(tmp_path / "a", "ci-1", "2026-01-02T03:00:00Z")
    b = _report(tmp_path / "b", "ci-2", "2026-01-02T04:00:00Z")
    b.seed = 99
    old = b.to_dict()
    old["schema_version"] = 1
    for key in ("runs", "started_at", "verdict"):
        old.pop(key)
    b_v1 = RunReport.from_dict(old)  # a version-1 report still loads...
    merged = merge_reports([a, b_v1])  # ...and merges
    assert [(r["seed"], r["machines"]) for r in merged.all_runs()] == [
        (7, ["ci-1"]),
        (99, ["ci-2"]),
    ]
    assert merged.all_runs()[0]["started_at"] == "2026-01-02T03:00:00Z"
    assert merged.started_at == "2026-01-02T03:00:00Z"
    write_all(merged, tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text()
    assert "Runs merged" in html and "ci-2" in html and "seed 7, 99" in html
    md = (tmp_path / "out" / "summary.md").read_text()
    assert "| run1 | 99 | whole | ci-2 | unknown |" in md  # the v1 input had no date or shard
    with pytest.raises(Exception, match="schema_version 3 is not supported"):
        RunReport.from_dict({**old, "schema_version": 3})


def _terminal(tmp_path: Path, quiet: bool) -> str:
    out = StringIO()
    console = plain_console(out) if quiet else None
    if console is None:
        from rich.console import Console

        console = Console(
            file=out, width=60, force_terminal=True, color_system="standard", highlight=False
        )
    handler = TerminalHandler(console, quiet=quiet)
    handler.interval = 0.0
    trace = _trace(tmp_path)
    bus = EventBus([handler])
    bus.emit(RunStarted("r", "memory", ["memory", "sqlite"], ["scenarios"], 1, 5, {}, {}, "m"))
    bus.emit(ScenarioStarted("scenarios", "ledger", ["memory", "sqlite"]))
    bus.emit(Progress("scenarios", "ledger", 2, 5, 4.0))
    bus.emit(
        DivergenceFound(
            "d",
            "scenarios",
            "ledger",
            ["sqlite"],
            2,
            3,
            "POST /x",
            "step 2: POST /x\n  2 difference(s) vs memory:\n"
            "    status: memory=201  sqlite=200\n"
            f'!   "status": 201   {LONG}   | "status": 200',
            str(trace),
            f"parity replay {tmp_path}/{LONG}.json --backends memory,sqlite",
        )
    )
    bus.emit(
        ScenarioFinished(
            "scenarios",
            "ledger",
            {"memory": CellResult("pass"), "sqlite": CellResult("fail", divergence="d")},
            1.0,
        )
    )
    bus.emit(RunFinished(1, 1.0))
    return out.getvalue()


def test_quiet_terminal_keeps_long_lines_whole_and_logs_progress(tmp_path: Path) -> None:
    text = _terminal(tmp_path, quiet=True)
    lines = text.splitlines()
    assert f"  replay: parity replay {tmp_path}/{LONG}.json --backends memory,sqlite" in lines
    assert any(
        line.startswith('!   "status": 201') and line.endswith('"status": 200') for line in lines
    )
    assert "  progress scenarios/ledger: 2/5 examples (4s, ~6s left)" in lines
    assert "    #2 POST /v1/cards/<id:3>/transactions" in text and "<< diverges" in text
    assert "\x1b[" not in text  # no colour codes in a log
    assert "1 divergence in 1.0s (exit 1)" in text and "parity: parity" not in text
    assert "reference" in text and "memory: pass" not in text


def test_a_terminal_gets_colour_on_the_changed_values(tmp_path: Path) -> None:
    text = _terminal(tmp_path, quiet=False)
    assert "\x1b[32m201\x1b[0m" in text  # the reference's value, green
    assert "\x1b[1;31m200\x1b[0m" in text  # the diverging backend's, bold red
    assert "\x1b[31m!" in text  # the differing side-by-side row, red


def test_progress_estimate() -> None:
    assert Progress("s", "x", 0, 10, 1.0).eta() is None
    assert Progress("s", "x", 5, 10, 10.0).eta() == pytest.approx(10.0)
    assert Progress("s", "x", 10, 10, 10.0).eta() is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--report-dir", "{file}"], "is a file, not a directory"),
        (["run", "--report-dir", "{file}/sub"], "is a file, not a directory"),
        (["run", "--backends", ""], "--backends needs at least one engine name"),
        (["run", "--backends", "memory,sqlit"], "did you mean 'sqlite'?"),
        (["run", "--backends", "memory,fault:wrong-stat"], "did you mean 'fault:wrong-status'?"),
        (["run", "--backends", "memory", "--scenarios", "ledgr"], "did you mean 'ledger'"),
        (["run", "--scenarios", ""], "--scenarios needs at least one scenario name"),
        (["run", "--suite", "contract", "--scenarios", "ledger"], "--suite contract runs none"),
        (["run", "-n", "2", "--scenarios", "ledgr", "--backends", "memory"], "did you mean"),
        (["report", "merge", "{file}", "--out", "{file}"], "--out"),
        (["replay", "{trace}", "--emit", "pytest", "--out", "{dir}"], "is a directory"),
        (["replay", "{trace}", "--backends", ""], "--backends needs at least one engine"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2_before_any_banner(
    argv: list[str], message: str, tmp_path: Path
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("{}")
    trace = _trace(tmp_path)
    values = {"file": str(afile), "dir": str(tmp_path), "trace": str(trace)}
    proc = subprocess.run(
        parity_command(*[a.format(**values) for a in argv]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err, err
    assert "parity run" not in proc.stdout  # no banner before the error


def test_config_is_accepted_after_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--config", "/nonexistent/pyproject.toml"]) == 2
    assert "nonexistent" in capsys.readouterr().err


def test_python_m_parity_cli_help_works() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "parity.cli", "replay", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0 and "--emit {pytest,curl}" in proc.stdout


def test_progress_lines_alone_for_quiet_callers() -> None:
    from parity.report.terminal import ProgressLines

    out = StringIO()
    handler = ProgressLines(plain_console(out), interval=0.0)
    handler.handle(ScenarioStarted("scenarios", "ledger", ["memory"]))
    handler.handle(Progress("scenarios", "ledger", 30, 200, 60.0))
    assert out.getvalue() == "  progress scenarios/ledger: 30/200 examples (1m00s, ~5m40s left)\n"


def test_progress_counts_the_examples_its_sessions_finished() -> None:
    """The ticker (not wall-clock timing: deterministic on a loaded machine)."""
    import threading
    from types import SimpleNamespace

    from parity.report.events import CallbackHandler, EventBus
    from parity.run.orchestrator import ProgressTicker

    seen: list[Progress] = []
    arrived = threading.Event()

    def record(event: object) -> None:
        if isinstance(event, Progress) and event.done == 3:
            seen.append(event)
            arrived.set()

    bus = EventBus([CallbackHandler(record)])
    ticker = ProgressTicker(bus, total=12, period=0.01)
    bus.add(ticker)
    bus.emit(ScenarioStarted("scenarios", "ledger", ["memory", "sqlite"]))
    ticker.watch(SimpleNamespace(stats=SimpleNamespace(examples=3)))  # type: ignore[arg-type]
    ticker.start()
    try:
        assert arrived.wait(5), "no progress event with the finished examples"
        assert seen[0].total == 12 and seen[0].scenario == "ledger"
        bus.emit(ScenarioFinished("scenarios", "ledger", {}, 0.1, 3, 3))
        assert ticker.snapshot() is None  # nothing is reported between scenarios
    finally:
        ticker.stop()
