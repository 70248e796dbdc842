"""Sign-up, tokens, profile, and input validation as problem+json."""

from __future__ import annotations

import pytest

from tests.api.conftest import Ledger

PROBLEM = "application/problem+json"


def test_sign_up_returns_user_and_working_token(ledger: Ledger) -> None:
    user = ledger.sign_up(score=640, name="Grace")
    assert user["id"].startswith("usr_") and user["score"] == 640
    assert user["token_type"] == "Bearer"
    me = ledger.client.get("/v1/users/me", headers=ledger.auth(user["access_token"]))
    assert me.status_code == 200
    assert me.json() == {k: user[k] for k in ("id", "name", "email", "score", "created_at")}


def test_email_is_unique_case_insensitively(ledger: Ledger) -> None:
    body = {"name": "A", "email": "Same@Example.com", "score": 100}
    assert ledger.client.post("/v1/users", json=body).status_code == 201
    again = ledger.client.post("/v1/users", json={**body, "email": "same@example.COM"})
    assert again.status_code == 409
    assert again.json()["type"] == "urn:parity:problem:email-taken"


def test_sign_up_honours_an_optional_idempotency_key(ledger: Ledger) -> None:
    body = {"name": "A", "email": "idem@example.com", "score": 100}
    first = ledger.client.post("/v1/users", json=body, headers={"Idempotency-Key": "s1"})
    second = ledger.client.post("/v1/users", json=body, headers={"Idempotency-Key": "s1"})
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"name": "A", "email": "a@b.co"}, 422),  # missing score
        ({"name": "A", "email": "a@b.co", "score": "700"}, 422),  # wrong type
        ({"name": "A", "email": "a@b.co", "score": 700.5}, 422),  # a fraction is not an int
        ({"name": "A", "email": "a@b.co", "score": 1001}, 422),
        ({"name": "A", "email": "a@b.co", "score": -1}, 422),
        ({"name": "A", "email": "not-an-email", "score": 1}, 422),
        ({"name": "", "email": "a@b.co", "score": 1}, 422),
        ({"name": "A\x00B", "email": "a@b.co", "score": 1}, 422),
        ({"name": "A", "email": "a@b.co", "score": 1, "role": "admin"}, 422),
        ([1, 2, 3], 422),
    ],
)
def test_bad_sign_up_is_a_problem_not_a_crash(ledger: Ledger, payload: object, status: int) -> None:
    r = ledger.client.post("/v1/users", json=payload)
    assert r.status_code == status
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["status"] == status


def test_malformed_json_is_400(ledger: Ledger) -> None:
    r = ledger.client.post(
        "/v1/users", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["type"] == "urn:parity:problem:malformed-json"


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic abc", "Bearer "])
def test_protected_endpoints_need_a_valid_token(ledger: Ledger, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = ledger.client.get("/v1/users/me", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert "traceback" not in r.text.lower()


def test_tokens_expire_on_the_injected_clock(ledger: Ledger) -> None:
    if ledger.engine.endswith("+cognito"):
        pytest.skip("Cognito stamps exp on its own clock, which the manual clock cannot move")
    token = ledger.sign_up()["access_token"]
    ledger.clock.advance(31 * 24 * 3600)
    r = ledger.client.get("/v1/users/me", headers=ledger.auth(token))
    assert r.status_code == 401


def test_unknown_route_and_method_are_problems(ledger: Ledger) -> None:
    assert ledger.client.get("/v1/nope").headers["content-type"] == PROBLEM
    r = ledger.client.delete("/v1/users/me", headers=ledger.admin())
    assert r.status_code == 405 and r.headers["content-type"] == PROBLEM


def test_health(ledger: Ledger) -> None:
    assert ledger.client.get("/health/liveness").json() == {"status": "ok"}
    assert ledger.client.get("/health/readiness").json() == {"status": "ok"}
