"""Crash windows: a request dies between two writes, the app restarts on the same store.

Why: a backend that writes a state change and its outbox event in two separate commits
(or a card and its request in two calls) answers exactly like an atomic one — until the
process dies between them. Only a crash placed there shows the difference, and a real
process can die anywhere: so this scenario places one at a generated write.

Rules (Hypothesis favours the first by name: ``crash`` comes before ``operate``)
- ``first_account`` (initialize) — a user with an active card, so money and card rules
  are enabled from the first step.
- ``crash`` — arm the ``crash`` control to kill the next request after its k-th write
  (writes counted across the request's commits: an idempotency claim, then the state
  change with its events), send one generated operation (it answers 500: the process
  died), restart the app on the same store, and read everything back: every card
  (balance, status, version), the touched card's transactions, the pending requests and
  every outbox event. Every backend must agree with the reference on each read.
- ``operate`` — one generated operation, no crash: purchase, payment, sign-up, card request
  (instant or pending by score), approve / reject a pending request, block / unblock a
  card. It builds the state the crashes then land in.
- ``retry_crashed`` — after some time passes, send a crashed request again with its
  Idempotency-Key: a replay if it had committed, "in flight" while its abandoned claim
  is fresh, a takeover once the in-flight timeout passed.

Model: learnt from the reference's listings after every crash (cards, pending requests,
user tokens from sign-ups). Checked on the reference (so "everyone agrees" cannot hide a
reference bug): every aggregate's events are gapless, and a card's last event sequence
is its version — a crash never leaves a state change without its event.

What it proves: each state change and its outbox events are committed together or not
at all, on every backend, wherever the process dies; and a restarted app finds the store
as the reference would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from scenarios import LEDGER_CONTROLS, LEDGER_REQUIRES, LockstepMachine, register
from scenarios._accounts import open_account
from scenarios.binding import ADMIN

#: the operations a crash can land in (each one request)
OPERATIONS = (
    "purchase",
    "payment",
    "sign_up",
    "card_request",
    "approve",
    "reject",
    "block",
)
#: the app's in-flight timeout of an idempotency claim (seconds), and either side of it
INFLIGHT_TIMEOUT = 60
WAITS = (0, 1, INFLIGHT_TIMEOUT - 1, INFLIGHT_TIMEOUT, INFLIGHT_TIMEOUT + 1)
#: the longest request (a card request: claim, then card, request, two events and the
#: claim's completion) has six writes; seven is "dies after its last write"
MAX_WRITES = 7
#: within every tier's credit limit mostly, so purchases change state more than they fail
amounts = st.integers(min_value=1, max_value=60_000)
#: a mid-tier score first: its card request waits for an admin (approve / reject)
scores = st.sampled_from([600, 750, 400])


@dataclass
class Req:
    """One request of an operation, kept to be sent again after a crash."""

    method: str
    path: str
    token: str | None
    json: Any
    headers: dict[str, str] = field(default_factory=dict)
    card_id: str | None = None  # the card whose state it changes, if any


@register
class CrashScenario(LockstepMachine):
    requires = LEDGER_REQUIRES
    controls = LEDGER_CONTROLS | {"crash"}
    scenario = "crash"

    def __init__(self) -> None:
        super().__init__()
        self.n = 0
        self.keys = 0
        self.tokens: dict[str, str] = {}  # user id -> access token
        self.cards: list[dict[str, Any]] = []  # the reference's card listing
        self.pending: list[dict[str, Any]] = []  # pending card requests
        self.crashed: list[Req] = []  # crashed requests that carry an Idempotency-Key

    # set-up -------------------------------------------------------------------------

    @initialize()
    def first_account(self) -> None:
        self.n += 1
        account = open_account(self, "Crash", self.n)
        self.tokens[account.user_id] = account.token
        self._learn()

    # the rules ------------------------------------------------------------------------

    @rule(
        op=st.sampled_from(OPERATIONS),
        pick=st.integers(min_value=0, max_value=7),
        amount=amounts,
        score=scores,
    )
    def operate(self, op: str, pick: int, amount: int, score: int) -> None:
        req = self._request(op, pick, amount, score)
        if req is None:
            return
        resp = self._send(req)
        if op == "sign_up" and resp.status == 201:
            self.tokens[resp.json()["id"]] = resp.json()["access_token"]
        self._learn()

    @rule(
        op=st.sampled_from(OPERATIONS),
        after_writes=st.integers(min_value=1, max_value=MAX_WRITES),
        pick=st.integers(min_value=0, max_value=7),
        amount=amounts,
        score=scores,
    )
    def crash(self, op: str, after_writes: int, pick: int, amount: int, score: int) -> None:
        req = self._request(op, pick, amount, score)
        if req is None:
            return
        armed = self.call("POST", "/_parity/crash/arm", json={"after_writes": after_writes})
        assert armed.status == 200, armed.text
        resp = self._send(req)
        assert resp.status == 500, resp.text  # the process died: no answer but an error
        self._restart()
        if "Idempotency-Key" in req.headers:
            self.crashed.append(req)
        self._look(req.card_id)

    @precondition(lambda self: bool(self.crashed))
    @rule(index=st.integers(min_value=0), wait=st.sampled_from(WAITS))
    def retry_crashed(self, index: int, wait: int) -> None:
        req = self.crashed[index % len(self.crashed)]
        if wait:
            moved = self.call("POST", "/_parity/clock/advance", json={"seconds": wait})
            assert moved.status == 200, moved.text
        self._send(req)
        self._look(req.card_id)

    # requests -------------------------------------------------------------------------

    def _key(self) -> dict[str, str]:
        self.keys += 1
        return {"Idempotency-Key": f"crash-{self.keys}"}

    def _request(self, op: str, pick: int, amount: int, score: int) -> Req | None:
        """The request of ``op`` on the ``pick``-th candidate, or ``None`` when there is
        none (no pending request to decide, no card whose owner we can act for)."""
        if op == "sign_up":
            self.n += 1
            body: dict[str, Any] = {"name": f"Crash {self.n}", "score": score}
            return Req("POST", "/v1/users", None, {**body, "email": f"crash{self.n}@example.com"})
        if op == "card_request":
            users = list(self.tokens)  # newest last: pick 0 is the newest user
            token = self.tokens[users[-1 - pick % len(users)]]
            return Req("POST", "/v1/card-requests", token, {}, self._key())
        if op in ("approve", "reject"):
            if not self.pending:
                return None
            request_id = self.pending[pick % len(self.pending)]["id"]
            return Req("POST", f"/v1/card-requests/{request_id}/{op}", ADMIN, None)
        cards = [c for c in self.cards if c["user_id"] in self.tokens]
        if not cards:
            return None
        card = cards[pick % len(cards)]
        token = self.tokens[card["user_id"]]
        if op == "block":
            got = self.call("GET", f"/v1/cards/{card['id']}", token=token)
            assert got.status == 200, got.text
            status = "active" if got.json()["status"] == "blocked" else "blocked"
            headers = {"If-Match": got.header("etag") or "*"}
            return Req("PATCH", f"/v1/cards/{card['id']}", token, {"status": status}, headers)
        body = {"type": op, "amount_cents": amount}
        path = f"/v1/cards/{card['id']}/transactions"
        return Req("POST", path, token, body, self._key(), card_id=card["id"])

    def _send(self, req: Req) -> Any:
        return self.call(req.method, req.path, token=req.token, headers=req.headers, json=req.json)

    def _restart(self) -> None:
        resp = self.call("POST", "/_parity/restart", json={})
        assert resp.status == 200, resp.text

    # reads ----------------------------------------------------------------------------

    def _learn(self) -> None:
        """Cards and pending requests as the reference lists them (compared reads)."""
        self.cards = self.paginate("/v1/cards?limit=100", token=ADMIN)
        self.pending = self.paginate("/v1/card-requests?status=pending&limit=100", token=ADMIN)

    def _look(self, card_id: str | None) -> None:
        """Everything a crash may have left half-written, read back after the restart."""
        self._learn()
        if card_id is not None:
            self.paginate(f"/v1/cards/{card_id}/transactions?limit=100", token=ADMIN)
        events = self.paginate("/v1/events?limit=100", token=ADMIN)
        sequences: dict[str, list[int]] = {}
        for event in events:
            sequences.setdefault(event["subject"], []).append(event["sequence"])
        for subject, seqs in sequences.items():
            assert seqs == list(range(1, len(seqs) + 1)), (subject, seqs)
        for card in self.cards:
            assert len(sequences.get(card["id"], [])) == card["version"], card
