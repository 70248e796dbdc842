"""The capability probe and its place in the report: a stock ``moto_server`` loses
committed updates in a 40-way race of conditional transactions (the probe says so), while
Parity's serialised moto does not; the matrix and the cells it marked unsupported show in
every report format."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.engines import capabilities
from parity.engines.capabilities import probe_capabilities
from parity.engines.dynamodb import free_port, wait_until_answers
from parity.engines.registry import create_engine
from parity.report import html, json_report, markdown
from parity.report.model import RunReport
from tests.engine_pool import engine_or_skip


@pytest.fixture
def stock_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's own ``moto_server`` (no serialising lock), as ``dynamodb@url`` sees it."""
    if shutil.which("moto_server") is None:
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    proc = subprocess.Popen(
        ["moto_server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until_answers(url, 30, proc), "moto_server did not answer"
        monkeypatch.setenv("PARITY_DYNAMODB_URL", url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_stock_moto_server_loses_updates_in_a_transaction_race(
    stock_moto: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # it stops at the first anomaly; a round shows one about 3 times in 5 (0.4**12 < 2e-5)
    monkeypatch.setattr(capabilities, "ROUNDS", 12)
    engine = create_engine("dynamodb@url")
    engine.start()
    row = probe_capabilities(engine)
    race = row["isolated_transactions"]
    assert race["status"] == "unsupported", race
    assert "not isolated" in race["evidence"]
    assert (
        "committed updates lost" in race["evidence"]
        or "cancelled updates applied" in (race["evidence"])
    )
    assert engine.unsupported["isolated_transactions"] == race["evidence"]
    assert row["transactions"]["status"] == "ok"  # it does implement them


def test_parity_serialised_moto_has_every_capability() -> None:
    engine = engine_or_skip("dynamodb@moto")
    row = probe_capabilities(engine)
    assert {c: f["status"] for c, f in row.items()} == dict.fromkeys(
        capabilities.CAPABILITIES, "ok"
    )
    assert "20 of 40 committed" in row["isolated_transactions"]["evidence"]


def test_engines_without_a_probe_say_so() -> None:
    row = probe_capabilities(create_engine("memory"))
    assert {f["status"] for f in row.values()} == {"not probed"}


def _report() -> RunReport:
    lost = "stock moto: conditional TransactWriteItems not isolated (3 committed updates lost)"
    return RunReport(
        run_id="r1",
        reference="memory",
        backends=["memory", "dynamodb@url"],
        engines={
            "memory": {
                "name": "memory",
                "capabilities": probe_capabilities(create_engine("memory")),
            },
            "dynamodb@url": {
                "name": "dynamodb@url",
                "capabilities": {
                    "transactions": {"status": "ok", "evidence": "all-or-nothing"},
                    "isolated_transactions": {"status": "unsupported", "evidence": lost},
                },
            },
        },
        cells={
            "ledger/races": {
                "memory": {"status": "pass", "examples": 1, "steps": 1},
                "dynamodb@url": {
                    "status": "unsupported",
                    "reason": f"needs isolated_transactions: {lost}",
                },
            }
        },
    )


def test_every_format_shows_the_matrix_and_the_cells_it_marked(tmp_path: Path) -> None:
    report = _report()
    summary = markdown.render(report)
    assert "## Capabilities" in summary
    header = next(line for line in summary.splitlines() if line.startswith("| engine |"))
    row = next(line for line in summary.splitlines() if line.startswith("| dynamodb@url |"))
    columns = dict(zip(header.split(" | ")[1:], row.split(" | ")[1:], strict=True))
    assert columns["transactions"] == "✅ ok"
    assert columns["isolated_transactions"] == "➖ unsupported"  # noqa: RUF001
    assert "- ledger/races on dynamodb@url: needs isolated_transactions" in summary
    page = html.render(report)
    assert '<table id="capabilities">' in page and "3 committed updates lost" in page
    data = json.loads(json_report.write(report, tmp_path).read_text())
    assert data["capabilities"]["unsupported_cells"] == [
        {
            "scenario": "ledger/races",
            "backend": "dynamodb@url",
            "capabilities": ["isolated_transactions"],
            "reason": report.cells["ledger/races"]["dynamodb@url"]["reason"],
        }
    ]
    assert data["capabilities"]["engines"]["memory"]["ttl"]["status"] == "not probed"


def test_real_aws_is_never_probed() -> None:
    engine = create_engine("dynamodb@aws")
    row = probe_capabilities(engine)  # no start: nothing may be called on AWS
    assert {f["status"] for f in row.values()} == {"not probed"}
    assert "real AWS" in row["transactions"]["evidence"]
    assert engine.unsupported == {}
