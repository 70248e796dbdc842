"""The provider port scenarios through ``parity``: the dev JWT verifier and Cognito, the
environment and SSM agree on moto; each planted provider difference is caught, shrunk and
replayed by ``parity selftest``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parity.cli import main
from parity.engines.registry import create_engine

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "pyproject.toml")
MOTO = "dynamodb@moto"


@pytest.fixture(autouse=True)
def moto_here() -> None:
    reason = create_engine(MOTO).probe()
    if reason is not None:
        pytest.skip(f"{MOTO}: {reason}")


def test_verifiers_and_config_sources_agree(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    argv = ["--config", CONFIG, "run", "--suite", "ports", "--seed", "3"]
    argv += ["--scenarios", "AuthParity,ConfigParity", "--examples", "5", "--steps", "8"]
    assert main([*argv, "--report-dir", str(reports)]) == 0
    report = json.loads((reports / "parity.json").read_text())
    cells = report["cells"]
    assert {b: c["status"] for b, c in cells["ports/AuthParity"].items()} == {
        "dev-jwt": "pass",
        "cognito": "pass",
    }
    assert {b: c["status"] for b, c in cells["ports/ConfigParity"].items()} == {
        "env": "pass",
        "ssm": "pass",
    }
    # the engine behind Cognito and SSM was probed: the matrix is in a ports-only report
    row = report["capabilities"]["engines"][MOTO]
    assert row["isolated_transactions"]["status"] == "ok"


@pytest.mark.slow  # 1-6 min on a busy machine: the nightly tier
@pytest.mark.parametrize("fault", ["cognito-expiry-inclusive", "ssm-undecrypted"])
def test_planted_provider_fault_is_caught_shrunk_and_replayed(tmp_path: Path, fault: str) -> None:
    argv = ["--config", CONFIG, "selftest", "--faults", fault, "--report-dir", str(tmp_path)]
    assert main(argv) == 0
    assert any(tmp_path.rglob("*.json")), "no trace saved"
