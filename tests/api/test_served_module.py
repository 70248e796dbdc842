"""Black-box: the API served by ``python -m reference_app`` (a real process, real HTTP) on
the stores the migrations start from, MySQL/MariaDB and Firestore (sqlite beside them as
the control). Every check is one a client makes: sign-up, uniqueness, idempotent replay,
a purchase, optimistic concurrency, listing, problem+json for bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from parity.targets.http import free_port
from reference_app.settings import settings_to_env
from tests.engine_pool import engine_or_skip, settings_for

ENGINES = ["sqlite", "mysql@local", "firestore@emulator"]


@pytest.fixture(params=ENGINES)
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    engine = engine_or_skip(request.param)
    settings = settings_for(engine, "served" + uuid.uuid4().hex[:8], relay_interval_seconds=0)
    port = free_port()
    env = {**os.environ, **settings_to_env(settings), "REFERENCE_APP_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reference_app", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"python -m reference_app exited: {proc.stderr.read()[-500:]!r}")
            try:
                if httpx.get(f"{url}/health/readiness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("python -m reference_app never became ready")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_a_client_sees_the_contract(served: str) -> None:
    with httpx.Client(base_url=served, timeout=30) as api:
        user = api.post("/v1/users", json={"name": "Ada", "email": "ada@x.io", "score": 750})
        assert user.status_code == 201
        assert "location" not in user.headers  # only the new user could follow one
        profile = f"/v1/users/{user.json()['id']}"
        assert api.get(profile).status_code == 401
        again = api.post("/v1/users", json={"name": "Ada", "email": "ada@x.io", "score": 750})
        assert again.status_code == 409
        assert again.headers["content-type"].startswith("application/problem+json")
        auth = {"Authorization": f"Bearer {user.json()['access_token']}"}
        assert api.get(profile, headers=auth).status_code == 200

        key = {**auth, "Idempotency-Key": "open-1"}
        card_request = api.post("/v1/card-requests", headers=key, json={})
        assert card_request.status_code == 201
        replay = api.post("/v1/card-requests", headers=key, json={})
        assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == card_request.json()
        card_id = card_request.json()["card_id"]

        card = api.get(f"/v1/cards/{card_id}", headers=auth)
        etag = card.headers["etag"]
        purchase = api.post(
            f"/v1/cards/{card_id}/transactions",
            headers={**auth, "Idempotency-Key": "p-1", "If-Match": etag},
            json={"type": "purchase", "amount_cents": 1250},
        )
        assert purchase.status_code == 201 and purchase.json()["balance_after_cents"] == 1250
        assert api.get(purchase.headers["location"], headers=auth).status_code == 200
        stale = api.post(
            f"/v1/cards/{card_id}/transactions",
            headers={**auth, "Idempotency-Key": "p-2", "If-Match": etag},
            json={"type": "purchase", "amount_cents": 1},
        )
        assert stale.status_code == 412  # the card moved on: optimistic concurrency
        listing = api.get(f"/v1/cards/{card_id}/transactions?limit=1", headers=auth)
        assert listing.status_code == 200 and len(listing.json()["items"]) == 1
        bad = api.get(f"/v1/cards/{card_id}/transactions?cursor=forged", headers=auth)
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem+json")
