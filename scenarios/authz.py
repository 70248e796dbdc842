"""Authorization: one user can never see or change another user's resources.

Rules
- ``sign_up`` — users, each with a card (approved at once).
- ``intrude`` — a user reads, lists the transactions of, pays or buys on, or changes the
  status of another user's card, or lists another's card requests: always 404 for the
  card (existence is not revealed), and nothing changes.
- ``own_listings`` — ``/v1/cards``, ``/v1/card-requests`` and ``/v1/dashboard`` show a
  user only their own things.
- ``no_or_bad_token`` — missing or tampered tokens are 401; a user token on admin-only
  endpoints (``/v1/events``, approving a request) is 403.
- ``owner_unchanged`` — each owner's card is exactly as the model says (balance, version).

What it proves: the access rules hold on every backend — a backend whose query forgets the
owner condition (a missing ``user_id`` key condition, a scan without a filter) is caught.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from scenarios import LEDGER_CONTROLS, LEDGER_REQUIRES, LockstepMachine, register
from scenarios._accounts import open_account


@dataclass
class Account:
    user_id: str
    token: str
    card: str
    request: str
    balance: int = 0
    version: int = 1


@register
class AuthzScenario(LockstepMachine):
    requires = LEDGER_REQUIRES
    controls = LEDGER_CONTROLS
    scenario = "authz"

    @initialize()
    def two_users(self) -> None:
        self.accounts: list[Account] = []
        self.sign_up()
        self.sign_up()

    @rule()
    def sign_up(self) -> None:
        opened = open_account(self, "Authz", len(self.accounts) + 1)
        self.accounts.append(
            Account(opened.user_id, opened.token, opened.card_id, opened.request_id)
        )

    @rule(
        a=st.integers(0, 5),
        b=st.integers(0, 5),
        action=st.sampled_from(["get", "list", "purchase", "payment", "patch"]),
    )
    def intrude(self, a: int, b: int, action: str) -> None:
        me = self.accounts[a % len(self.accounts)]
        victim = self.accounts[b % len(self.accounts)]
        if me is victim:
            victim = self.accounts[(b + 1) % len(self.accounts)]
        path = f"/v1/cards/{victim.card}"
        if action == "get":
            resp = self.call("GET", path, token=me.token)
        elif action == "list":
            resp = self.call("GET", f"{path}/transactions", token=me.token)
        elif action == "patch":
            resp = self.call(
                "PATCH",
                path,
                token=me.token,
                headers={"If-Match": '"1"'},
                json={"status": "blocked"},
            )
        else:
            resp = self.call(
                "POST",
                f"{path}/transactions",
                token=me.token,
                headers={"Idempotency-Key": f"x{a}{b}"},
                json={"type": action, "amount_cents": 1},
            )
        assert resp.status == 404, (action, resp.status, resp.text)

    @rule(who=st.integers(0, 5), amount=st.integers(1, 10_000))
    def own_purchase(self, who: int, amount: int) -> None:
        me = self.accounts[who % len(self.accounts)]
        resp = self.call(
            "POST",
            f"/v1/cards/{me.card}/transactions",
            token=me.token,
            headers={"Idempotency-Key": f"own{me.version}"},
            json={"type": "purchase", "amount_cents": amount},
        )
        assert resp.status == 201, resp.text
        me.balance += amount
        me.version += 1

    @rule(who=st.integers(0, 5))
    def own_listings(self, who: int) -> None:
        me = self.accounts[who % len(self.accounts)]
        cards = self.paginate("/v1/cards?limit=2", token=me.token)
        assert [c["id"] for c in cards] == [me.card], cards
        requests = self.paginate("/v1/card-requests?limit=2", token=me.token)
        assert [r["id"] for r in requests] == [me.request], requests
        dash = self.call("GET", "/v1/dashboard", token=me.token).json()
        assert {c["user_id"] for c in dash["cards"]} <= {me.user_id}, dash
        assert {t["card_id"] for t in dash["recent_transactions"]} <= {me.card}, dash

    @rule(who=st.integers(0, 5), how=st.sampled_from(["none", "tampered", "events", "approve"]))
    def no_or_bad_token(self, who: int, how: str) -> None:
        me = self.accounts[who % len(self.accounts)]
        if how == "none":
            assert self.call("GET", f"/v1/cards/{me.card}").status == 401
        elif how == "tampered":
            bad = me.token[:-2] + ("AA" if not me.token.endswith("AA") else "BB")
            assert self.call("GET", f"/v1/cards/{me.card}", token=bad).status == 401
        elif how == "events":
            assert self.call("GET", "/v1/events", token=me.token).status == 403
        else:
            resp = self.call("POST", f"/v1/card-requests/{me.request}/approve", token=me.token)
            assert resp.status == 403, resp.text

    @rule()
    def owner_unchanged(self) -> None:
        for acc in self.accounts:
            card = self.call("GET", f"/v1/cards/{acc.card}", token=acc.token).json()
            assert (card["balance_cents"], card["version"], card["status"]) == (
                acc.balance,
                acc.version,
                "active",
            ), (card, acc)
