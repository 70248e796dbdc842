"""Real concurrency: 20 threads against a real uvicorn server on each backend.

No lost update (balance = sum of the 201s), exactly one outbox event per 201, and one
winner per idempotency key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from parity.targets.http import serve
from reference_app.bootstrap import create_app
from tests.api.conftest import ADMIN
from tests.conftest import API_ENGINES
from tests.engine_pool import engine_or_skip, fresh_namespace, settings_for

THREADS = 20


@pytest.fixture(params=API_ENGINES)
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    engine = engine_or_skip(request.param)
    settings = settings_for(engine, fresh_namespace(), admin_token=ADMIN, secret="race-secret")
    with serve(create_app(settings)) as url:
        yield url


def _card(client: httpx.Client) -> tuple[dict[str, str], str]:
    user = client.post("/v1/users", json={"name": "R", "email": "r@example.com", "score": 900})
    auth = {"Authorization": f"Bearer {user.json()['access_token']}"}
    req = client.post("/v1/card-requests", headers={**auth, "Idempotency-Key": "card"})
    return auth, req.json()["card_id"]


def _fire(base_url: str, jobs: list[dict[str, Any]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(jobs))

    def one(job: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            barrier.wait()
            return client.post(job["url"], json=job["json"], headers=job["headers"])

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(one, jobs))


def test_purchase_race_loses_no_update(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        auth, card_id = _card(client)
        jobs = [
            {
                "url": f"/v1/cards/{card_id}/transactions",
                "json": {"type": "purchase", "amount_cents": 100 + i},
                "headers": {**auth, "Idempotency-Key": f"race-{i}"},
            }
            for i in range(THREADS)
        ]
        results = _fire(base_url, jobs)
        assert {r.status_code for r in results} <= {201, 409}, [r.text for r in results]
        created = [r.json() for r in results if r.status_code == 201]
        assert created, "at least one purchase must win"
        card = client.get(f"/v1/cards/{card_id}", headers=auth).json()
        assert card["balance_cents"] == sum(t["amount_cents"] for t in created)
        assert card["version"] == 1 + len(created)
        # A serial order exists: the running balances are all distinct partial sums.
        assert len({t["balance_after_cents"] for t in created}) == len(created)
        events = client.get(
            "/v1/events",
            params={"subject": card_id, "limit": 100},
            headers={"Authorization": f"Bearer {ADMIN}"},
        ).json()["items"]
        purchases = [e for e in events if e["type"] == "ledger.card.purchase"]
        assert sorted(e["data"]["id"] for e in purchases) == sorted(t["id"] for t in created)
        assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))


def test_idempotency_race_has_one_winner(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        auth, card_id = _card(client)
        job = {
            "url": f"/v1/cards/{card_id}/transactions",
            "json": {"type": "purchase", "amount_cents": 250},
            "headers": {**auth, "Idempotency-Key": "one-key"},
        }
        results = _fire(base_url, [job] * THREADS)
        assert {r.status_code for r in results} <= {201, 409}
        created = [r for r in results if r.status_code == 201]
        assert len({r.json()["id"] for r in created}) == 1
        originals = [r for r in created if r.headers.get("idempotent-replayed") != "true"]
        assert len(originals) == 1
        assert client.get(f"/v1/cards/{card_id}", headers=auth).json()["balance_cents"] == 250
