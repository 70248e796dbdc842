"""The pytest plugin: fixtures for users' own tests, and `parity run -n N` under xdist."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

USER_TEST = """
from scenarios.ledger import LedgerScenario


def test_ledger_in_lockstep(parity_check, parity_session):
    parity_check(LedgerScenario, examples=3, steps=6)
    assert parity_session.stats.examples >= 3
    assert parity_session.namespace_prefix.startswith("t_main_")
"""


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        # the inner pytest is not an xdist worker, even when this test runs in one
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")},
    )


def test_fixtures_run_a_lockstep_machine_in_a_users_test(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    proc = _pytest("--parity-backends", "memory,sqlite", "test_user.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def test_plugin_is_harmless_when_unused(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
    proc = _pytest("test_plain.py", cwd=tmp_path)
    assert proc.returncode == 0 and "1 passed" in proc.stdout


def test_parallel_run_merges_worker_reports(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            "-m",
            "parity.cli",
            "run",
            "-n",
            "2",
            "--backends",
            "memory,sqlite",
            "--scenarios",
            "ledger",
            "--examples",
            "4",
            "--steps",
            "5",
            "--seed",
            "5",
            "--report-dir",
            str(tmp_path),
            "--no-regressions",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "parity.json").read_text())
    cell = data["cells"]["scenarios/ledger"]["sqlite"]
    assert cell["status"] == "pass" and cell["examples"] >= 4
    assert len(data["machines"]) == 2  # one entry per xdist worker
    assert all(m.split(":")[1].startswith("gw") for m in data["machines"])
    assert (tmp_path / "index.html").is_file()


def test_parity_session_takes_shrink_examples_from_tool_parity(tmp_path: Path) -> None:
    """One place decides the option: ``[tool.parity] shrink_examples`` bounds a user's
    ``parity_session`` as it bounds ``parity run`` (left out: unbounded)."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "\n[tool.parity]\n" in pyproject
    (tmp_path / "test_budget.py").write_text(
        "def test_budget(parity_session):\n    assert parity_session.shrink_examples == 7\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        pyproject.replace("\n[tool.parity]\n", "\n[tool.parity]\nshrink_examples = 7\n", 1)
    )
    proc = _pytest("--parity-backends", "memory", "test_budget.py", cwd=tmp_path)
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr
    (tmp_path / "pyproject.toml").write_text(pyproject)
    proc = _pytest("--parity-backends", "memory", "test_budget.py", cwd=tmp_path)
    assert proc.returncode == 1 and "assert None == 7" in proc.stdout, proc.stdout


def test_parallel_run_works_beside_another_copy_of_parity_on_the_path(tmp_path: Path) -> None:
    """``tox -e aws`` in Parity's own repository: the ``parity`` command comes from the
    tox env's site-packages, its workers' ``python -m pytest`` finds the checkout in the
    working directory first. Collecting the worker module by file path mixed the two
    ("import file mismatch", 0/2 workers reported); by module name it is one copy."""
    import shutil

    shutil.copytree(ROOT / "parity", tmp_path / "parity", ignore=shutil.ignore_patterns("*.pyc"))
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    # -P: the command itself does not see the working directory's copy, as a console
    # script does not; its pytest workers (python -m pytest) see it first
    argv = [sys.executable, "-P", "-W", "ignore", "-m", "parity.cli", "run", "-n", "2"]
    argv += ["--backends", "memory", "--scenarios", "ledger", "--examples", "2"]
    argv += ["--steps", "3", "--no-regressions", "--report-dir", str(tmp_path / "out")]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "workers reported" not in proc.stderr
    data = json.loads((tmp_path / "out" / "parity.json").read_text())
    assert len(data["machines"]) == 2
