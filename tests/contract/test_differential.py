"""A planted contract fault on ONE backend is caught twice: by the differential run (it
answers differently from the reference) and by schemathesis's own checks on that backend.
The reference, which has no fault, is clean."""

from __future__ import annotations

import pytest
from hypothesis import find, settings

from parity.config import ParityConfig
from parity.run.backends import Backends
from tests.contract.conftest import make_runner, operation


@pytest.mark.parametrize(
    ("fault", "label", "check"),
    [
        ("undocumented-status", "GET /v1/cards/{card_id}", "status_code_conformance"),
        ("schema-violation", "GET /v1/users/me", "response_schema_conformance"),
    ],
)
def test_planted_fault_on_one_backend_is_caught(
    config: ParityConfig, backends: Backends, fault: str, label: str, check: str
) -> None:
    runner = make_runner(config, backends, seed=3, examples=6, fault=fault)
    try:
        result = runner.run_operation(operation(runner, label))
    finally:
        runner.close()
    assert result.errors == []
    assert result.cases == 6
    checks = {f.check for f in result.failed("sqlite")}
    assert "divergence" in checks  # the differential run
    assert check in checks  # the per-backend schemathesis check
    assert result.failed("memory") == []
    divergence = next(f for f in result.failed("sqlite") if f.check == "divergence")
    assert "memory (reference)" in divergence.message and label.split()[0] in divergence.request
    failure = next(f for f in result.failed("sqlite") if f.check == check)
    assert failure.curl.startswith("curl -X GET")


def test_clean_backends_agree_and_pass_every_check(
    config: ParityConfig, backends: Backends
) -> None:
    runner = make_runner(config, backends, seed=5, examples=8)
    try:
        results = [
            runner.run_operation(operation(runner, label))
            for label in (
                "POST /v1/cards/{card_id}/transactions",
                "POST /v1/users",
                "GET /v1/cards",
            )
        ]
        results.append(runner.run_stateful(3, 6))
    finally:
        runner.close()
    for result in results:
        assert result.errors == [], result.label
        assert result.findings == [], (result.label, result.findings)
        assert result.cases > 0


def test_each_case_is_generated_once_and_sent_identically(
    config: ParityConfig, backends: Backends
) -> None:
    """In parity mode the replayed bytes equal the reference's (ids are seeded)."""
    runner = make_runner(config, backends, seed=9, examples=4)
    fanout, _ = runner.new_fanout("bytes")
    try:
        op = operation(runner, "POST /v1/users")
        case = find(op.as_strategy(), lambda _: True, settings=settings(database=None))
        execution = fanout.execute(case, {})
        assert fanout.translate(execution.wire, "sqlite") == execution.wire
        assert set(execution.responses) == {"memory", "sqlite"}
        assert execution.differences == {}
    finally:
        runner.release(fanout)
        runner.close()
