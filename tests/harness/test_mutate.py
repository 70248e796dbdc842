"""``parity mutate``: operators are deterministic, the hook loads a mutant in a child,
and a run scores a small app's SQL store (caught and surviving mutants)."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from parity.mutate.operators import apply, find_mutants
from tests.processes import alive, parity_command

SQLSTORE = '''
"""The SQL store of the toy project (the module under mutation)."""
import sqlite3


def is_big(value):
    return value >= 10


def open_db(path):
    db = sqlite3.connect(path, check_same_thread=False)  # pragma: no mutate
    db.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, value INTEGER)")
    return db


def never_called():
    return 40 + 2
'''

APP = '''
from fastapi import FastAPI
from pydantic import BaseModel

from toyproj import sqlstore


class ItemIn(BaseModel):
    value: int


def create(store):
    """memory keeps a list; sqlite goes through sqlstore (the module mutated)."""
    app = FastAPI()
    items = []
    db = sqlstore.open_db(store.option("path")) if store.kind == "sqlite" else None

    @app.post("/items", status_code=201)
    def add(item: ItemIn):
        if db is not None:
            db.execute("INSERT INTO items (value) VALUES (?)", (item.value,))
            db.commit()
            big = sqlstore.is_big(item.value)
        else:
            items.append(item.value)
            big = item.value >= 10
        return {"value": item.value, "big": big}

    return app
'''

SCENARIO = """
from hypothesis import strategies as st

from parity import LockstepMachine, register, rule


@register
class Items(LockstepMachine):
    @rule(value=st.integers(0, 20))
    def add(self, value):
        assert self.call("POST", "/items", json={"value": value}).status == 201
"""


def _project(root: Path) -> Path:
    pkg = root / "toyproj"
    (pkg / "scenarios").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sqlstore.py").write_text(SQLSTORE)
    (pkg / "app.py").write_text(APP)
    (pkg / "scenarios" / "__init__.py").write_text("")
    (pkg / "scenarios" / "items.py").write_text(SCENARIO)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.parity]
            app = "toyproj.app:create"
            scenarios = "toyproj.scenarios"
            backends = ["memory", "sqlite"]
            """
        )
    )
    return root


def test_mutants_are_numbered_the_same_way_every_time_and_skip_docstrings() -> None:
    mutants = find_mutants(SQLSTORE)
    assert mutants == find_mutants(SQLSTORE)
    # operands before their operator, in source order
    assert [(m.line, m.description) for m in mutants] == [
        (7, "10 -> 11"),
        (7, ">= -> >"),
        (17, "40 -> 41"),
        (17, "2 -> 3"),
        (17, "+ -> -"),
    ]
    second = ast.unparse(apply(SQLSTORE, 1))
    assert "value > 10" in second and "The SQL store" in second  # docstring untouched
    with pytest.raises(IndexError, match="has 5 mutants"):
        apply(SQLSTORE, 5)


def test_a_pragma_keeps_a_line_out_of_mutation() -> None:
    source = "def f(x):\n    return x + 1  # pragma: no mutate\n"
    assert find_mutants(source) == []


def test_the_hook_loads_the_mutant_in_a_child_process(tmp_path: Path) -> None:
    root = _project(tmp_path)
    code = (
        "from parity.mutate.hook import install_from_env; install_from_env(); "
        "from toyproj import sqlstore; print(sqlstore.is_big(10))"
    )
    env = {**os.environ, "PYTHONPATH": str(root), "PARITY_MUTANT": "toyproj.sqlstore:1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr  # 10 > 10 under mutant 1


def test_parity_mutate_scores_caught_and_surviving_mutants(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "PYTHONPATH": str(root), "TMPDIR": str(tmp_path / "tmp")}
    reports = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "parity.cli",
            "mutate",
            "toyproj.sqlstore",
            "--examples",
            "10",
            "--jobs",
            "2",
            "--report-dir",
            str(reports),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((reports / "mutation.json").read_text())
    outcomes = {r["description"]: r["outcome"] for r in data["results"]}
    assert outcomes[">= -> >"] == "caught"  # 10 is "big" on memory, not on the mutant
    assert outcomes["10 -> 11"] == "caught"
    assert outcomes["+ -> -"] == "survived"  # dead code: no scenario can see it
    by = {r["description"]: r["caught_by"] for r in data["results"]}
    assert by[">= -> >"] == "scenarios/Items on sqlite"  # which scenario noticed
    assert by["+ -> -"] == ""
    assert data["detected"] == 2 and data["mutants"] == 5 and data["score"] == 0.4
    assert data["complete"] is True and data["planned"] == 5
    assert [r["index"] for r in data["results"]] == [0, 1, 2, 3, 4]  # --jobs 2: in order
    assert data["run_args"][-3:] == ["--fail-fast", "--shrink-examples", "0"]  # a verdict only
    assert "detection score 2/5" in proc.stdout
    assert "| #4 | 17 | `+ -> -` | survived |" in (reports / "mutation.md").read_text()
    assert list((tmp_path / "tmp").iterdir()) == []  # its scratch dir (child reports) went


def test_an_unmutated_run_that_is_not_green_is_refused(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "toyproj" / "sqlstore.py").write_text(SQLSTORE.replace("value >= 10", "value > 10"))
    (tmp_path / "tmp").mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "parity.cli",
            "mutate",
            "toyproj.sqlstore",
            "--examples",
            "10",
            "--report-dir",
            str(tmp_path / "out"),
        ],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "TMPDIR": str(tmp_path / "tmp")},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 2
    assert list((tmp_path / "tmp").iterdir()) == []  # the scratch dir goes on error too
    assert "the unmutated run is not green" in proc.stderr
    assert proc.stderr.count("\n") == 1  # one line, no traceback


def test_reports_written_before_the_last_mutant_say_they_are_partial(tmp_path: Path) -> None:
    from parity.mutate.runner import MutantResult, MutateOptions, write_reports

    options = MutateOptions("toyproj.sqlstore", ("--examples", "10"), tmp_path)
    done = [MutantResult(0, 7, "10 -> 11", "caught", 1.5)]
    write_reports(options, tmp_path / "sqlstore.py", done, planned=5)
    data = json.loads((tmp_path / "mutation.json").read_text())
    assert (data["complete"], data["mutants"], data["planned"], data["score"]) == (False, 1, 5, 1)
    first = (tmp_path / "mutation.md").read_text().splitlines()[0]
    assert first == "# Mutation score: 1/1 (100%) (partial: 1 of 5 mutants run)"


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text`` (a test's own tmp path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_an_interrupted_mutate_stops_every_child_at_once(tmp_path: Path) -> None:
    root = _project(tmp_path)
    # every mutant hangs (for longer than the test waits); the unmutated run does not
    with (root / "toyproj" / "app.py").open("a") as app:
        app.write("\nimport os, time\nif os.environ.get('PARITY_MUTANT'):\n    time.sleep(600)\n")
    (tmp_path / "tmp").mkdir()
    proc = subprocess.Popen(
        parity_command(
            "mutate",
            "toyproj.sqlstore",
            "--examples",
            "10",
            "--jobs",
            "2",
            "--timeout",
            "500",
            "--report-dir",
            str(tmp_path / "out"),
        ),
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "TMPDIR": str(tmp_path / "tmp")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        # two mutants running, each in its own process group: the signal reaches only
        # the parent, which must stop them (else it would wait 600 s for them)
        while len(_processes_mentioning(f"{tmp_path}/tmp/parity-mutate")) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in _processes_mentioning(str(tmp_path)):  # a failed test leaves none either
            os.killpg(pid, signal.SIGKILL)
    assert proc.returncode == 2, stderr
    assert "parity: interrupted" in stderr
    assert _processes_mentioning(str(tmp_path)) == []
    assert not (tmp_path / "out" / "mutation.json").exists()  # no mutant finished
