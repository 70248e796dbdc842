"""The stateful phase follows links as the principal they name, and starts from seeded
state too.

Sign-up creates *another* principal: its ``GetMe`` link carries the new user's token
(``header.Authorization``), and the harness's auth must not replace it with the contract
user's (who may not read the new user: 404 by design, which schemathesis's
``ensure_resource_availability`` reported as a lost resource on every backend).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from schemathesis.generation.meta import TestPhase

from parity.config import ParityConfig
from parity.run.backends import Backends
from tests.contract.conftest import make_runner, operation

GET_ME = "POST /v1/users -> [201] GetMe -> GET /v1/users/me"
GET_USER = "GET /v1/users/me -> [200] GetUser -> GET /v1/users/{user_id}"


def _sign_up(runner: Any, fanout: Any) -> dict[str, Any]:
    case = operation(runner, "POST /v1/users").Case(
        body={"name": "Linked", "email": "linked@example.com", "score": 720},
        media_type="application/json",
    )
    execution = fanout.execute(case, {})
    assert {n: r.status_code for n, r in execution.responses.items()} == {
        "memory": 201,
        "sqlite": 201,
    }
    body: dict[str, Any] = execution.responses[runner.reference].json()
    return body


def test_a_token_the_namespace_minted_is_followed_as_its_user(
    config: ParityConfig, backends: Backends
) -> None:
    """A case that already carries the new user's token (what the GetMe link puts in it)
    keeps it; one without gets the contract user's. Sent to every backend, the first
    reads the new user on each (the token is translated per backend)."""
    runner = make_runner(config, backends, seed=1, examples=2)
    fanout, auth = runner.new_fanout("minted")
    try:
        runner.generate_in(fanout)
        new = _sign_up(runner, fanout)
        bearer = f"Bearer {new['access_token']}"
        get_me = operation(runner, "GET /v1/users/me")
        linked = get_me.as_strategy(headers={"Authorization": bearer}, phase=TestPhase.STATEFUL)
        plain = get_me.as_strategy(phase=TestPhase.STATEFUL)
        cases: list[Any] = []

        @settings(max_examples=3, database=None, suppress_health_check=list(HealthCheck))
        @given(linked, plain)
        def check(with_link: Any, without: Any) -> None:
            assert with_link.headers["Authorization"] == bearer
            assert without.headers["Authorization"] == auth["user"]["Authorization"]
            cases.append(with_link)

        check()
        execution = fanout.execute(cases[0], {})
        for backend, response in execution.responses.items():
            assert response.status_code == 200, (backend, response.text)
        assert execution.responses[runner.reference].json()["id"] == new["id"]
        assert execution.differences == {}
    finally:
        runner.generate_in(None)
        runner.release(fanout)
        runner.close()


def test_stateful_links_follow_sign_up_as_the_new_user_and_start_from_seeds(
    config: ParityConfig, backends: Backends
) -> None:
    """signUp → GetMe and getMe → GetUser are followed, chains also start on seeded
    objects, and nothing fails (ensure_resource_availability included)."""
    runner = make_runner(config, backends, seed=7, examples=50)
    try:
        result = runner.run_stateful(8, 8)
    finally:
        runner.close()
    assert result.errors == []
    assert result.findings == []
    assert result.examples == 8
    assert result.rules[GET_ME]["memory"] >= 1
    assert result.rules[GET_USER]["memory"] >= 1
    assert any(name.startswith("SEEDED -> ") for name in result.rules)
    assert result.link_steps >= 10
    # every rule ran on both backends, as often
    assert all(row["memory"] == row["sqlite"] for row in result.rules.values())
    assert result.coverage()["rules"] == result.rules
