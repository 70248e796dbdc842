"""The example of docs/ports.md runs as written: its planted difference is caught,
shrunk to the four calls the page shows, saved, and replays to the same divergence."""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "ports.md"


def doc_example() -> str:
    """The page's first python block: the whole example."""
    match = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert match, "docs/ports.md has no python example"
    return match.group(1)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A project whose ports package is the doc example (a fresh module name, so the
    registration of another test's copy never leaks in)."""
    package = f"docports_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text(doc_example())
    (tmp_path / "pyproject.toml").write_text(f'[tool.parity]\nports = "{package}"\n')
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith(package)]:
        del sys.modules[name]


def test_doc_example_is_caught_shrunk_and_replayed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "pyproject.toml")
    reports = project / "reports"
    argv = ["--config", config, "run", "--suite", "ports", "--examples", "60", "--steps", "20"]
    code = main([*argv, "--seed", "0", "--report-dir", str(reports)])
    assert code == 1, capsys.readouterr()
    report = json.loads((reports / "parity.json").read_text())
    assert report["cells"]["ports/CacheParity"]["bounded"]["status"] == "fail"
    (div,) = report["divergences"]
    assert div["backends"] == ["bounded"]
    assert div["steps"] == 4  # three puts of distinct keys, then the evicted key is used
    capsys.readouterr()
    assert main(["--config", config, "replay", div["trace"]]) == 1
    assert "same divergence as recorded" in capsys.readouterr().out
    # the reference alone agrees with itself: the difference is the bounded cache's
    assert main(["--config", config, "replay", div["trace"], "--backends", "dict"]) == 2
    only_dict = ["--backends", "dict", "--without-diverged"]
    assert main(["--config", config, "replay", div["trace"], *only_dict]) == 0
