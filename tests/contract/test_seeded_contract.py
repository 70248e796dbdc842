"""The contract suite reaches the store: every namespace is seeded through the binding's
``seed_contract`` hook, and generated parameters draw from the ids it returned.

Before the hook, every case on ``/v1/cards/{card_id}`` answered 404 (the namespace held
only the signed-up user), so a backend that mangled an existing card passed the contract
suite. These tests show the seeded operation answering 200 on every backend, a fault
only an existing card shows being caught, shrunk and replayed, and an app whose binding
has no hook (examples/bookshelf) running the suite as before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from parity.binding import AppBinding, BindingError
from parity.config import ParityConfig
from parity.contract.runner import ContractRunner
from parity.contract.seeding import KEEP, moved, seeded_ids, substitute
from parity.diff.normalize import Normalizer
from parity.lockstep.session import LockstepSession
from parity.run.backends import Backends
from parity.targets.factory import AppTargetFactory
from parity.trace.replay import replay
from tests.contract.conftest import RewriteMiddleware, make_runner, operation

CARD = "GET /v1/cards/{card_id}"
ROOT = Path(__file__).resolve().parents[2]


def _statuses(runner: ContractRunner, label: str) -> dict[str, dict[str, int]]:
    result = runner.run_operation(operation(runner, label))
    assert not result.errors, result.errors
    assert not result.findings, [f.message for f in result.findings]
    return result.endpoints[label]


def test_a_seeded_card_answers_200_on_every_backend(
    config: ParityConfig, backends: Backends
) -> None:
    runner = make_runner(config, backends, seed=5, examples=10)
    try:
        fanout, _ = runner.new_fanout("seeded")
        try:
            seeded = dict(fanout.seeded)
        finally:
            runner.release(fanout)
        statuses = _statuses(runner, CARD)
    finally:
        runner.close()
    assert {"card_id", "request_id", "transaction_id", "user_id"} <= set(seeded)
    assert sorted(statuses) == sorted(backends.names)
    for backend, counts in statuses.items():
        assert counts.get("200", 0) >= 1, (backend, counts)
    # the same cases answered the same statuses everywhere (ids mapped per backend)
    assert len({json.dumps(c, sort_keys=True) for c in statuses.values()}) == 1


def _blocked_everywhere(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A backend that reads every existing card back as blocked (a status column mapped
    wrongly): invisible while every card lookup was a 404."""
    return (status, {**body, "status": "blocked"}) if status == 200 else (status, body)


def test_a_fault_only_an_existing_card_shows_is_caught_and_replayed(
    config: ParityConfig, backends: Backends
) -> None:
    runner = make_runner(config, backends, seed=5, examples=10)
    base = runner.factories["sqlite"]
    assert isinstance(base, AppTargetFactory)

    def build(store: Any) -> Any:
        return RewriteMiddleware(
            base.binding.build_app(store), "GET", "/v1/cards/", _blocked_everywhere
        )

    runner.factories["sqlite"] = AppTargetFactory(base.name, base.engine, base.binding, build=build)
    try:
        result = runner.run_operation(operation(runner, CARD))
    finally:
        runner.close()
    found = [f for f in result.findings if f.check == "divergence"]
    assert [f.backend for f in found] == ["sqlite"], result.findings
    trace = found[0].trace
    assert trace is not None  # reproduced in a fresh, identically seeded namespace
    lines = [s.request.line() for s in trace.steps]
    assert "POST /v1/card-requests" in lines  # the seeding is part of the trace
    assert lines[-1].startswith("GET /v1/cards/<id:")
    session = LockstepSession(
        runner.factories, trace.reference, namespace_prefix="t_seeded", seed=trace.replay_seed
    )
    try:
        replayed = replay(trace, session)
    finally:
        session.executor.shutdown(wait=False)
    assert replayed.divergence is not None
    assert replayed.same_divergence_as(trace)


def _cases(runner: ContractRunner, label: str, mode: str) -> Any:
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode

    op = operation(runner, label)
    found: list[Any] = []

    @settings(
        max_examples=30, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(op.as_strategy(generation_mode=GenerationMode(mode)))
    def collect(case: Any) -> None:
        found.append(case)

    collect()
    return found


def test_a_negated_part_stays_negated_and_absent_headers_stay_absent(
    config: ParityConfig, backends: Backends
) -> None:
    from schemathesis.core.parameters import ParameterLocation as Loc

    post = "POST /v1/cards/{card_id}/transactions"
    runner = make_runner(config, backends, seed=5, examples=2)
    try:
        negative = [
            c
            for c in _cases(runner, post, "negative")
            if c.meta is not None
            and c.meta.is_negative_at(Loc.HEADER)
            and not c.meta.is_negative_at(Loc.PATH)
        ]
        positive = _cases(runner, post, "positive")
    finally:
        runner.close()
    assert negative, "no case negated its headers"
    params = [(Loc.PATH, "card_id"), (Loc.HEADER, "Idempotency-Key"), (Loc.HEADER, "If-Match")]
    case = negative[0]
    headers = dict(case.headers or {})
    substitute(case, params, ["card_1", "seed-tx-1", "*"])
    assert case.path_parameters["card_id"] == "card_1"  # the path was valid: seeded
    assert dict(case.headers or {}) == headers  # the negated headers stay as generated
    for case in positive:
        had = "If-Match" in (case.headers or {})
        substitute(case, params, ["card_1", KEEP, "*"])
        assert case.path_parameters["card_id"] == "card_1"
        assert ("If-Match" in (case.headers or {})) is had
        if had:
            assert case.headers["If-Match"] == "*"
    kept = positive[0]
    generated = dict(kept.path_parameters)
    substitute(kept, params[:1], [KEEP])
    assert kept.path_parameters == generated


def test_a_case_moves_to_another_namespaces_ids() -> None:
    old, new = Normalizer(), Normalizer()
    old.text("card_01KDVDNA00DHW93DTR98H6BCFR")  # <id:1> in the old namespace
    new.text("card_01KDVDNA00DHW93DTR98H6ZZZZ")  # <id:1> in the fresh one

    class Case:
        path_parameters = {"card_id": "card_01KDVDNA00DHW93DTR98H6BCFR"}
        query = {"subject": "card_01KDVDNA00DHW93DTR98H6BCFR", "limit": 2}

    case: Any = Case()
    with moved(case, old, new):
        assert case.path_parameters == {"card_id": "card_01KDVDNA00DHW93DTR98H6ZZZZ"}
        assert case.query == {"subject": "card_01KDVDNA00DHW93DTR98H6ZZZZ", "limit": 2}
    assert case.path_parameters == {"card_id": "card_01KDVDNA00DHW93DTR98H6BCFR"}
    assert case.query["subject"] == "card_01KDVDNA00DHW93DTR98H6BCFR"


def test_seeded_ids_are_checked() -> None:
    assert seeded_ids(None) == {}
    assert seeded_ids({"book_id": [1, 2], "empty": []}) == {"book_id": ["1", "2"]}
    with pytest.raises(BindingError, match="seed_contract must return"):
        seeded_ids(["card_1"])
    assert AppBinding().seed_contract(lambda *a, **k: None, None, {}) == {}  # type: ignore[arg-type]


def test_a_binding_without_the_hook_runs_the_contract_as_before(tmp_path: Path) -> None:
    """examples/bookshelf binds a plain factory: no seeding, every operation still runs
    (and its statuses reach the coverage table)."""
    pytest.importorskip(
        "sqlalchemy", reason="examples/bookshelf not installed (pip install -e examples/bookshelf)"
    )
    app = ROOT / "examples" / "bookshelf"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(app), str(ROOT)])}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from parity.cli import main; sys.exit(main())",
            "run",
            "--suite",
            "contract",
            "--backends",
            "sqlite",
            "--examples",
            "3",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "parity.json").read_text())
    contract = {k: v for k, v in report["scenarios"].items() if k.startswith("contract/")}
    assert len(contract) > 3
    book = next(k for k in contract if "{" in k and k.startswith("contract/GET"))
    endpoints = contract[book]["coverage"]["endpoints"]
    assert sum(endpoints[book.removeprefix("contract/")]["sqlite"].values()) >= 1
