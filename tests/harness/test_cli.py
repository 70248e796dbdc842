"""Exit codes and messages of the ``parity`` command (0 parity, 1 divergence, 2 infra)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from parity.cli import main
from tests.processes import parity_command

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        parity_command(*argv),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_run_memory_sqlite_exits_0_and_writes_every_report(tmp_path: Path) -> None:
    proc = run_cli(
        "run",
        "--scenarios",
        "ledger",
        "--backends",
        "memory,sqlite",
        "--examples",
        "3",
        "--steps",
        "8",
        "--seed",
        "3",
        "--report-dir",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("parity.json", "junit.xml", "index.html", "summary.md"):
        assert (tmp_path / name).is_file()
    data = json.loads((tmp_path / "parity.json").read_text())
    assert data["cells"]["scenarios/ledger"]["sqlite"]["status"] == "pass"
    assert data["engines"]["sqlite"]["version"]


def test_divergence_exits_1_and_saves_a_replayable_trace(tmp_path: Path) -> None:
    proc = run_cli(
        "run",
        "--scenarios",
        "ledger",
        "--backends",
        "memory,fault:wrong-status",
        "--examples",
        "30",
        "--steps",
        "8",
        "--seed",
        "1",
        "--report-dir",
        str(tmp_path),
        "--no-regressions",
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "status: memory=201  fault:wrong-status=200" in proc.stdout
    traces = sorted((tmp_path / "failures").glob("*.json"))
    assert len(traces) == 1
    replayed = run_cli("replay", str(traces[0]))
    assert replayed.returncode == 1
    assert "same divergence as recorded" in replayed.stdout
    fixed = run_cli("replay", str(traces[0]), "--backends", "memory,sqlite", "--without-diverged")
    assert fixed.returncode == 0 and "no divergence" in fixed.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--backends", "postgres@url"], "engine postgres@url is not available"),
        (["run", "--backends", "nosuch"], "unknown engine"),
        (["replay", "/nonexistent/trace.json"], "no such trace file"),
        (["report", "merge", "/nonexistent/a.json", "--out", "/tmp/x"], "no such report"),
    ],
)
def test_infrastructure_and_input_errors_exit_2_with_one_line(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PARITY_POSTGRES_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_missing_server_engine_is_one_line_on_the_real_command() -> None:
    proc = run_cli("run", "--backends", "memory,postgres@url")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("parity: error: engine postgres@url")


def test_a_suite_whose_code_is_missing_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from parity.suites import registry

    monkeypatch.setitem(registry.SUITES, "contract", "parity.contract_not_here.suite:run")
    assert main(["run", "--suite", "contract", "--backends", "memory"]) == 2
    assert "contract suite not installed" in capsys.readouterr().err


def test_unknown_scenario_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--scenarios", "nosuch", "--backends", "memory"]) == 2
    assert "unknown scenario(s) nosuch" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--examples", "0"],
        ["run", "--suite", "nope"],
        ["run", "--seed", "x"],
        ["frobnicate"],
    ],
)
def test_bad_cli_input_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_backends_lists_every_engine_with_availability(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backends"]) == 0
    out = capsys.readouterr().out
    assert "memory" in out and "available" in out
    assert "postgres@url" in out and "fault:lost-update" in out


def test_report_merge_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.harness.test_reports import build

    for name, backends in (("a", ["memory", "sqlite"]), ("b", ["memory", "dynamodb@moto"])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "parity.json").write_text(
            json.dumps(build(backends, machine=name).to_dict())
        )
    code = main(
        [
            "report",
            "merge",
            str(tmp_path / "a/parity.json"),
            str(tmp_path / "b/parity.json"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    merged = json.loads((tmp_path / "out/parity.json").read_text())
    assert merged["backends"] == ["memory", "sqlite", "dynamodb@moto"]
    assert (tmp_path / "out/index.html").is_file()
