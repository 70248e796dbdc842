"""The same seed generates the same cases, in the same order, with the same bytes."""

from __future__ import annotations

from parity.config import ParityConfig
from parity.run.backends import Backends
from tests.contract.conftest import make_runner, operation

LABEL = "POST /v1/cards/{card_id}/transactions"


def _requests(config: ParityConfig, backends: Backends, seed: int) -> list[str]:
    runner = make_runner(config, backends, seed=seed, examples=8)
    try:
        result = runner.run_operation(operation(runner, LABEL))
        stateful = runner.run_stateful(2, 5)
    finally:
        runner.close()
    return result.requests + stateful.requests


def test_same_seed_same_cases(config: ParityConfig, backends: Backends) -> None:
    first = _requests(config, backends, 11)
    assert len(first) > 8
    assert _requests(config, backends, 11) == first
    assert _requests(config, backends, 12) != first
