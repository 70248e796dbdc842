"""Issue 13, the red minute end to end: a planted fault's run piped to a log, its reports
showing every call, its replay command pasted from the log, and its trace emitted as a
pytest file and a curl script that reproduce the divergence without Parity."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.served import served
from tests.processes import parity_command

ROOT = Path(__file__).resolve().parents[2]
FAULT = "fault:wrong-status"


@dataclass
class Run:
    log: str
    returncode: int
    report_dir: Path

    def trace(self, prefix: str) -> Path:
        found = sorted((self.report_dir / "failures").glob(f"{prefix}--*.json"))
        assert found, f"no {prefix} trace in {self.report_dir}"
        return found[0]


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The brief's planted-fault run, stdout piped (not a terminal), regressions on (they
    include a held interleaving)."""
    report_dir = tmp_path_factory.mktemp("fault run")  # a space: paths must be quoted
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.run(
        parity_command(
            "run",
            "--backends",
            f"memory,{FAULT}",
            "--scenarios",
            "ledger",
            "--examples",
            "50",
            "--seed",
            "1",
            "--report-dir",
            str(report_dir),
        ),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={**env, "COLUMNS": "80"},
    )
    return Run(proc.stdout, proc.returncode, report_dir)


def test_piped_log_keeps_long_lines_whole_and_the_replay_command_pastes(fault_run: Run) -> None:
    assert fault_run.returncode == 1, fault_run.log
    replays = [ln.strip() for ln in fault_run.log.splitlines() if "replay: parity replay" in ln]
    assert replays, fault_run.log
    # the side-by-side rows are longer than 80 columns and stay one line each
    assert any(len(line) > 100 and " | " in line for line in fault_run.log.splitlines())
    assert not any(line.startswith("fault:wrong-status") for line in fault_run.log.splitlines())
    command = shlex.split(replays[0].split("replay: ", 1)[1])
    assert command[:2] == ["parity", "replay"] and Path(command[2]).is_file()
    proc = subprocess.run(
        parity_command(*command[1:]), capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "same divergence as recorded" in proc.stdout


def test_reports_show_every_call_then_the_highlighted_diff(fault_run: Run) -> None:
    data = json.loads((fault_run.report_dir / "parity.json").read_text())
    assert data["schema_version"] == 2 and data["started_at"].endswith("Z")
    assert data["verdict"].endswith("divergences") or data["verdict"] == "1 divergence"
    div = next(d for d in data["divergences"] if d["scenario"] == "ledger")
    calls = div["calls"]
    assert len(calls) == div["steps"] >= 2
    assert calls[0]["method"] == "POST" and calls[0]["path"] == "/v1/users"
    assert calls[-1]["diverged"] and calls[-1]["status"] == {"memory": 201, FAULT: 200}
    assert div["differences"] == [
        {"backend": FAULT, "path": "status", "expected": 201, "actual": 200}
    ]
    html = (fault_run.report_dir / "index.html").read_text()
    assert '<ol class="calls"' in html and "/v1/users" in html
    assert '<ins class="act">200</ins>' in html and '<span class="chg">!' in html
    md = (fault_run.report_dir / "summary.md").read_text()
    assert "#0 POST /v1/users" in md and "<< diverges" in md
    assert "- status: 201  (reference)" in md and f"+ status: 200  ({FAULT})" in md
    assert "calls (" in fault_run.log and "#0 POST /v1/users" in fault_run.log


def _emit(trace: Path, kind: str, out: Path) -> None:
    proc = subprocess.run(
        parity_command("replay", str(trace), "--emit", kind, "--out", str(out)),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.is_file()


def _run_emitted_pytest(test_file: Path, candidate: str) -> subprocess.CompletedProcess[str]:
    """The emitted file against fresh uvicorn servers: memory as the reference, and
    ``candidate`` under the faulty backend's URL variable."""
    with served("memory") as reference, served(candidate) as other:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")},
            "PARITY_URL_MEMORY": reference,
            "PARITY_URL_FAULT_WRONG_STATUS": other,
        }
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
            capture_output=True,
            text=True,
            cwd=test_file.parent,  # outside the project: the file needs nothing of it
            env=env,
            timeout=120,
        )


@pytest.mark.parametrize("prefix", ["ledger", "interleaved-lost-update"])
def test_emitted_pytest_fails_on_the_fault_and_passes_on_a_healthy_backend(
    fault_run: Run, prefix: str, tmp_path: Path
) -> None:
    test_file = tmp_path / "test_repro.py"
    _emit(fault_run.trace(prefix), "pytest", test_file)
    text = test_file.read_text()
    assert "import parity" not in text and "from parity" not in text
    faulty = _run_emitted_pytest(test_file, FAULT)
    assert faulty.returncode == 1, faulty.stdout + faulty.stderr
    assert "status: 201 != 200" in faulty.stdout
    healthy = _run_emitted_pytest(test_file, "memory")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "1 passed" in healthy.stdout


def test_emitted_pytest_skips_without_urls(fault_run: Run, tmp_path: Path) -> None:
    test_file = tmp_path / "test_repro.py"
    _emit(fault_run.trace("ledger"), "pytest", test_file)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_URL", "PYTEST_X"))}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(test_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0 and "PARITY_URL_MEMORY" in proc.stdout


@pytest.mark.parametrize("prefix", ["ledger", "interleaved-lost-update"])
def test_emitted_curl_script_sends_real_tokens_and_shows_the_diverging_status(
    fault_run: Run, prefix: str, tmp_path: Path
) -> None:
    script = tmp_path / "repro.sh"
    _emit(fault_run.trace(prefix), "curl", script)
    text = script.read_text()
    assert "[Filtered]" not in text and "Bearer ${TOKEN_1}" in text
    outputs = {}
    for backend in (FAULT, "memory"):
        with served(backend) as url:
            proc = subprocess.run(
                ["bash", str(script), url], capture_output=True, text=True, timeout=120
            )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        lines = proc.stdout.splitlines()
        outputs[backend] = next(ln for ln in lines if ln.endswith("<<< the divergence"))
        for line in lines:  # every other call got what memory answered when recorded
            if not line.endswith("<<< the divergence"):
                got = line.split(" -> ", 1)[1].split()[0]
                assert f"(recorded: memory {got}," in line, line
    assert "-> 200 " in outputs[FAULT] and "-> 201 " in outputs["memory"]


def test_emit_of_a_trace_without_divergence_is_one_line_exit_2(tmp_path: Path) -> None:
    trace = {
        "kind": "parity-trace",
        "schema_version": 1,
        "scenario": "ledger",
        "reference": "memory",
        "backends": ["memory", "sqlite"],
        "app": {"binding": {"name": "reference_app"}},
        "steps": [],
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(trace))
    proc = subprocess.run(
        parity_command("replay", str(path), "--emit", "pytest"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "records no divergence" in proc.stderr
