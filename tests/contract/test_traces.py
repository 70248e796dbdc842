"""Contract failures become shrunk traces, like lockstep divergences: a planted fault is
shrunk by Hypothesis to one call after the auth set-up (a stateful chain, further, to the
calls a replay needs, set-up included), saved under ``failures/``, and a replay of the
saved trace (through a lockstep session on the same backends) shows the same failure on
the faulty backend and none on the healthy one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parity.baseline import Baseline
from parity.config import ParityConfig
from parity.contract import suite
from parity.contract.runner import ContractRunner, Finding
from parity.contract.traces import same_failure
from parity.lockstep.session import LockstepSession
from parity.report.events import ContractFailure, DivergenceFound, Event, EventBus
from parity.report.repro import enrich
from parity.run.backends import Backends
from parity.run.context import RunContext
from parity.targets.factory import AppTargetFactory
from parity.trace.model import Trace
from parity.trace.replay import replay
from parity.trace.store import load_trace, save_failure
from tests.contract.conftest import RewriteMiddleware, make_runner, operation, planted_factory


def _setup_steps(runner: ContractRunner) -> int:
    fanout, _ = runner.new_fanout("count")
    try:
        return len(fanout.steps)
    finally:
        runner.release(fanout)


def _replay(runner: ContractRunner, trace: Trace) -> Any:
    session = LockstepSession(
        runner.factories, trace.reference, namespace_prefix="t_replay", seed=trace.replay_seed
    )
    try:
        return replay(trace, session)
    finally:
        session.executor.shutdown(wait=False)


def _check_trace(
    runner: ContractRunner, finding: Finding, tmp_path: Path, chain: bool = False
) -> Trace:
    assert finding.trace is not None, finding
    path = save_failure(finding.trace, tmp_path)
    assert path.parent == tmp_path / "failures"
    trace = load_trace(path)
    if chain:  # replayed without every call it does not need, the set-up's too
        assert len(trace.steps) <= 3 and trace.replays is True, trace.steps
        assert trace.contract is not None and trace.contract["step"] == len(trace.steps) - 1
    else:  # the set-up, then Hypothesis's shrunk case
        assert 1 <= len(trace.steps) - _setup_steps(runner) <= 3
    assert trace.contract is not None and trace.contract["backend"] == finding.backend
    text = json.dumps(trace.to_dict())
    assert "[Filtered]" not in text
    # the case carries the token the set-up minted, as a reference: re-minted on replay
    assert trace.steps[-1].request.headers.get("authorization") == "Bearer <token:1>"
    result = _replay(runner, trace)
    assert result.divergence is not None
    assert sorted(result.divergence.step.differences) == [finding.backend]
    assert result.same_divergence_as(trace)
    assert same_failure(trace, result.trace)
    return trace


@pytest.mark.parametrize(
    ("fault", "label", "check"),
    [
        ("undocumented-status", "GET /v1/cards/{card_id}", "status_code_conformance"),
        ("schema-violation", "GET /v1/users/me", "response_schema_conformance"),
    ],
)
def test_planted_fault_is_shrunk_saved_and_replayed(
    config: ParityConfig, backends: Backends, tmp_path: Path, fault: str, label: str, check: str
) -> None:
    runner = make_runner(config, backends, seed=3, examples=6, fault=fault)
    try:
        result = runner.run_operation(operation(runner, label))
        assert result.errors == []
        assert result.failed("memory") == []  # the healthy reference keeps its verdict
        failures = {f.check: f for f in result.failed("sqlite")}
        assert {"divergence", check} <= set(failures)
        for kind in ("divergence", check):
            trace = _check_trace(runner, failures[kind], tmp_path)
            assert trace.contract is not None and trace.contract["check"] == kind
            assert trace.steps[-1].request.line().startswith(label.split()[0])
    finally:
        runner.close()


def _score_plus_one(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Schema-valid, but not what the reference answers."""
    if status == 200 and isinstance(body.get("score"), int):
        return status, {**body, "score": body["score"] % 850 + 1}
    return status, body


def test_divergence_between_healthy_backends_becomes_a_trace(
    config: ParityConfig, backends: Backends, tmp_path: Path
) -> None:
    runner = make_runner(config, backends, seed=7, examples=4)
    base = runner.factories["sqlite"]
    assert isinstance(base, AppTargetFactory)

    def build(store: Any) -> Any:
        app = base.binding.build_app(store)
        return RewriteMiddleware(app, "GET", "/v1/users/me", _score_plus_one)

    runner.factories["sqlite"] = AppTargetFactory(base.name, base.engine, base.binding, build=build)
    try:
        result = runner.run_operation(operation(runner, "GET /v1/users/me"))
        assert result.errors == []
        assert {f.check for f in result.failed("sqlite")} == {"divergence"}  # no check fails
        assert result.failed("memory") == []
        trace = _check_trace(runner, result.failed("sqlite")[0], tmp_path)
        step = trace.divergent_step
        assert step is not None and [d.path for d in step.differences["sqlite"]] == ["body.score"]
    finally:
        runner.close()


def test_contract_events_carry_the_saved_trace(
    config: ParityConfig, backends: Backends, tmp_path: Path
) -> None:
    planted = Backends(
        backends.reference,
        backends.engines,
        {
            "memory": backends.factories["memory"],
            "sqlite": planted_factory(backends.factories["sqlite"], "undocumented-status"),  # type: ignore[arg-type]
        },
        backends.info,
        backends.prepared,
    )
    events: list[Event] = []
    ctx = RunContext(
        config=config,
        backends=planted,
        bus=EventBus(),
        baseline=Baseline([]),
        seed=4,
        examples=4,
        steps=5,
        report_dir=tmp_path,
        run_id="abcdef123456",
        backend_names=planted.names,
    )
    ctx.bus.add(_Collect(events))
    runner = make_runner(config, planted, seed=4, examples=4)
    try:
        suite.report(ctx, runner.run_operation(operation(runner, "GET /v1/cards/{card_id}")))
    finally:
        runner.close()
    failure = next(e for e in events if isinstance(e, ContractFailure))
    divergence = next(e for e in events if isinstance(e, DivergenceFound))
    assert failure.trace and Path(failure.trace).parent == tmp_path / "failures"
    assert divergence.trace_path and Path(divergence.trace_path).is_file()
    assert divergence.replay.startswith(f"parity replay {divergence.trace_path}")
    calls = enrich({"trace": divergence.trace_path})["calls"]
    assert [c["method"] for c in calls][-1] == "GET" and calls[-1]["diverged"]
    assert calls[-1]["status"] == {"memory": 404, "sqlite": 410}


class _Collect:
    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def handle(self, event: Event) -> None:
        self.events.append(event)


@pytest.mark.parametrize(
    ("fault", "seed"),
    [
        ("schema-violation", 0),  # GET /v1/users/me
        ("user-schema-violation", 6),  # GET /v1/users/{user_id}: every check on there
    ],
)
def test_stateful_chain_is_shrunk_to_a_trace(
    config: ParityConfig, backends: Backends, tmp_path: Path, fault: str, seed: int
) -> None:
    # Which chains reach the faulty operation is generation luck: a full suite run under
    # load (CI) missed GET /v1/users/{id} at the first seed, so two more are tried; the
    # assertions below are about what happens once a chain reaches it.
    for attempt in range(3):
        runner = make_runner(config, backends, seed=seed + attempt, examples=6, fault=fault)
        result = runner.run_stateful(4, 8)
        failures = {f.check: f for f in result.failed("sqlite")}
        if "response_schema_conformance" in failures or attempt == 2:
            break
        runner.close()
    try:
        assert result.errors == []
        assert {"divergence", "response_schema_conformance"} <= set(failures)
        assert "ensure_resource_availability" not in failures
        trace = _check_trace(runner, failures["response_schema_conformance"], tmp_path, chain=True)
        assert trace.contract is not None
        assert trace.contract["check"] == "response_schema_conformance"
        assert trace.scenario == "contract/stateful (links)"
        assert trace.steps[-1].request.line().startswith("GET /v1/users/")
    finally:
        runner.close()
