"""Opening a user with a card: the set-up most scenarios start from, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from parity import LockstepMachine


@dataclass(frozen=True)
class Opened:
    user_id: str
    token: str
    card_id: str
    request_id: str


def open_account(machine: LockstepMachine, label: str, n: int, key: str = "open") -> Opened:
    """Sign up a top-tier user (score 750: the card is approved at once) and request its
    card with Idempotency-Key ``key``: two compared steps."""
    body = {"name": f"{label} {n}", "email": f"{label.lower()}{n}@example.com", "score": 750}
    user = machine.call("POST", "/v1/users", json=body)
    assert user.status == 201, user.text
    token = user.json()["access_token"]
    req = machine.call(
        "POST", "/v1/card-requests", token=token, headers={"Idempotency-Key": key}, json={}
    )
    assert req.status == 201 and req.json()["card_id"], req.text
    data = req.json()
    return Opened(user.json()["id"], token, data["card_id"], data["id"])
