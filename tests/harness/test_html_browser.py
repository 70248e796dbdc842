"""The HTML report opens in headless Chromium and shows the matrix (when Chromium exists:
``apt-get install -y chromium``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from parity.report import write_all
from tests.harness.test_reports import build

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_renders_the_matrix_in_headless_chromium(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    write_all(build(["memory", "sqlite", "dynamodb@moto"], failing="sqlite"), tmp_path)
    url = (tmp_path / "index.html").as_uri()
    base = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1200,900", url],
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    dom = subprocess.run(
        [*base, "--dump-dom", url], capture_output=True, text=True, timeout=90, check=False
    ).stdout
    assert '<table id="matrix">' in dom
    assert dom.count('<td class="pass"') >= 3 and '<td class="fail"' in dom
    assert "memory (reference)" in dom
