"""The reference app's port scenarios through ``parity run --suite ports``: green on
real implementations, and the planted transport fault caught, shrunk and replayed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parity.cli import main
from parity.engines.registry import create_engine

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "pyproject.toml")


def needs(engine: str) -> None:
    reason = create_engine(engine).probe()
    if reason is not None:
        pytest.skip(f"{engine}: {reason}")


def run_ports(tmp_path: Path, *args: str) -> tuple[int, dict[str, object]]:
    reports = tmp_path / "reports"
    code = main(["--config", CONFIG, "run", "--suite", "ports", "--seed", "3", *args,
                 "--report-dir", str(reports)])  # fmt: skip
    return code, json.loads((reports / "parity.json").read_text())


def test_unit_of_work_port_agrees_on_memory_and_sqlite(tmp_path: Path) -> None:
    code, report = run_ports(
        tmp_path, "--scenarios", "unit-of-work", "--backends", "memory,sqlite",
        "--examples", "5", "--steps", "15",
    )  # fmt: skip
    assert code == 0
    assert report["cells"]["ports/unit-of-work"]["sqlite"]["status"] == "pass"  # type: ignore[index]


def test_transports_agree_on_moto_server(tmp_path: Path) -> None:
    needs("dynamodb@moto-server")
    code, report = run_ports(
        tmp_path, "--scenarios", "outbox-transports", "--examples", "3", "--steps", "10"
    )
    assert code == 0
    cells = report["cells"]["ports/outbox-transports"]  # type: ignore[index]
    assert {b: c["status"] for b, c in cells.items()} == {
        "memory": "pass",
        "sqs-fifo": "pass",
        "eventbridge-sqs": "pass",
    }


def test_an_unknown_implementation_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--config", CONFIG, "run", "--suite", "ports", "--backends", "memory,nosuch"]
    assert main([*argv, "--report-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("parity: error: --backends nosuch: no port scenario") and "\n" not in err


@pytest.mark.slow
def test_planted_transport_fault_is_caught_shrunk_and_replayed(tmp_path: Path) -> None:
    needs("dynamodb@moto-server")
    argv = ["--config", CONFIG, "selftest", "--faults", "sqs-dedup-by-subject"]
    assert main([*argv, "--examples", "100", "--report-dir", str(tmp_path)]) == 0
