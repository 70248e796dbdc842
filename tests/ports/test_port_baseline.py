"""A port divergence is judged against the baseline like an HTTP one: an accepted
entry makes the cell "known" (exit 0); without it the cell fails (exit 1)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.cli import main

SCENARIO = '''
from hypothesis import strategies as st

from parity import PortMachine, register, rule


class Counter:
    def __init__(self):
        self.counts = {}

    def bump(self, key):
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]


class SharedCounter(Counter):
    """Planted: every key shares one count."""

    def bump(self, key):
        return super().bump("all")


@register
class Counters(PortMachine):
    implementations = {"dict": Counter, "shared": SharedCounter}

    @rule(key=st.sampled_from("ab"))
    def bump(self, key):
        self.port.bump(key)
'''

BASELINE = """accepted:
  - id: shared-counts
    match: {scenario: Counters, backend: shared, path: "body.returned"}
    reason: the shared counter is planted for this test
    expires: 2999-12-31
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    package = f"portbase_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text(SCENARIO)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.parity]\nports = "{package}"\nbaseline = "baseline.yaml"\n'
    )
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith(package)]:
        del sys.modules[name]


def run(project: Path, name: str) -> tuple[int, dict[str, object]]:
    reports = project / name
    argv = ["--config", str(project / "pyproject.toml"), "run", "--suite", "ports"]
    code = main([*argv, "--examples", "30", "--steps", "8", "--seed", "1", "--report-dir",
                 str(reports)])  # fmt: skip
    return code, json.loads((reports / "parity.json").read_text())


def test_an_accepted_port_divergence_is_known(project: Path) -> None:
    code, report = run(project, "before")
    assert code == 1
    assert report["cells"]["ports/Counters"]["shared"]["status"] == "fail"  # type: ignore[index]
    (project / "baseline.yaml").write_text(BASELINE)
    code, report = run(project, "after")
    assert code == 0
    cell = report["cells"]["ports/Counters"]["shared"]  # type: ignore[index]
    assert cell["status"] == "known" and "shared-counts" in cell["reason"]
