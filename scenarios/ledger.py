"""The ledger scenario: the whole card-ledger API, driven in lockstep on every backend.

Rules (each one request, so shrunk traces stay short and readable). Hypothesis orders
rules by name and favours the first ones, and rules that need nothing (clock, relay) would
otherwise crowd out the ones that build state: hence ``buy``/``pay`` and preconditions on
the clock and the relay (they matter once a card exists).
sign-up (incl. a duplicate email), card requests (score tiers → approved at once or
pending), admin approve/reject of pending requests, purchases and payments (incl. ones
that must be refused), idempotent retries with the same body (a replay) and a different
body (422), card status changes with a current, stale or missing ``If-Match``, listings
with page sizes, cursors followed to the end and type filters, another user's card (404),
clock advances (past the idempotency TTL), outbox relay runs with transport failures, the
event log per card, and the dashboard.

What it proves: every backend answers every one of these calls exactly like the
reference (after normalisation), in any order Hypothesis finds. The scenario's own model
(built from the reference's answers) checks the reference against the domain rules as
invariants, so a reference bug cannot hide behind "everyone agrees".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize, invariant, multiple, precondition, rule

from scenarios import LEDGER_CONTROLS, LEDGER_REQUIRES, LockstepMachine, register
from scenarios.binding import ADMIN

TTL_SECONDS = 24 * 3600


@dataclass
class UserRef:
    id: str
    token: str
    score: int


@dataclass
class CardRef:
    id: str
    owner: UserRef
    credit_limit_cents: int
    balance_cents: int = 0
    status: str = "active"
    etag: str | None = None
    stale_etag: str | None = None


@dataclass
class Sent:
    """A transaction request already sent with an Idempotency-Key (for retries)."""

    card: CardRef
    key: str
    body: dict[str, object]
    status: int
    sent_at: float


@dataclass
class Model:
    now: float = 0.0  # seconds since the scenario's start (manual clock)
    pending: list[tuple[str, UserRef]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)


amounts = st.integers(min_value=1, max_value=60_000)
# Instant approval first: Hypothesis shrinks towards the first element, and a minimal
# failing sequence should not need an admin decision unless the bug is in one.
scores = st.sampled_from([750, 700, 1000, 699, 500, 650, 499, 320, 0])


@register
class LedgerScenario(LockstepMachine):
    requires = LEDGER_REQUIRES
    controls = LEDGER_CONTROLS
    scenario = "ledger"

    users = Bundle("users")
    cards = Bundle("cards")

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.emails = 0
        self.keys = 0
        self.all_cards: list[CardRef] = []

    def _key(self) -> str:
        self.keys += 1
        return f"key-{self.keys}"

    # users ------------------------------------------------------------------------------

    @initialize(target=cards)
    def first_card(self) -> CardRef:
        """Every example starts with one active card: the interesting rules (money,
        idempotency, events, listings) are enabled from the first step, which makes
        Hypothesis find and shrink real bugs much faster."""
        user = self._sign_up(750)
        card = self.request_card(user)
        assert isinstance(card, CardRef), card
        return card

    @precondition(lambda self: self.emails < 4)
    @rule(target=users, score=scores, taken=st.sampled_from([False, True]))
    def sign_up(self, score: int, taken: bool) -> object:
        if taken:  # the first user's email again: 409 on every backend
            body = {"name": "Again", "email": "u1@example.com", "score": score}
            assert self.call("POST", "/v1/users", json=body).status == 409
            return multiple()
        return self._sign_up(score)

    def _sign_up(self, score: int) -> UserRef:
        self.emails += 1
        body = {
            "name": f"User {self.emails}",
            "email": f"u{self.emails}@example.com",
            "score": score,
        }
        resp = self.call("POST", "/v1/users", json=body)
        assert resp.status == 201, resp.text
        data = resp.json()
        return UserRef(data["id"], data["access_token"], score)

    # card requests ----------------------------------------------------------------------

    @rule(target=cards, user=users)
    def request_card(self, user: UserRef) -> object:
        resp = self.call(
            "POST",
            "/v1/card-requests",
            token=user.token,
            headers={"Idempotency-Key": self._key()},
            json={},
        )
        assert resp.status == 201, resp.text
        data = resp.json()
        if data["status"] == "pending":
            self.model.pending.append((data["id"], user))
            return multiple()
        return self._track_card(data["card_id"], user, data["credit_limit_cents"])

    def _track_card(self, card_id: str, user: UserRef, limit: int) -> CardRef:
        card = CardRef(card_id, user, limit)
        self.all_cards.append(card)
        return card

    @precondition(lambda self: bool(self.model.pending))
    @rule(target=cards, index=st.integers(min_value=0), approve=st.sampled_from([True, False]))
    def decide_pending(self, index: int, approve: bool) -> object:
        request_id, user = self.model.pending.pop(index % len(self.model.pending))
        action = "approve" if approve else "reject"
        resp = self.call("POST", f"/v1/card-requests/{request_id}/{action}", token=ADMIN)
        assert resp.status == 200, resp.text
        data = resp.json()
        if approve:
            return self._track_card(data["card_id"], user, data["credit_limit_cents"])
        return multiple()

    @precondition(lambda self: bool(self.model.pending))
    @rule(limit=st.integers(min_value=1, max_value=3))
    def pending_listing(self, limit: int) -> None:
        items = self.paginate(f"/v1/card-requests?status=pending&limit={limit}", token=ADMIN)
        assert len(items) == len(self.model.pending)

    # transactions -----------------------------------------------------------------------

    def _post(self, card: CardRef, body: dict[str, object], key: str | None = None) -> int:
        key = key or self._key()
        resp = self.call(
            "POST",
            f"/v1/cards/{card.id}/transactions",
            token=card.owner.token,
            headers={"Idempotency-Key": key},
            json=body,
        )
        replayed = resp.header("idempotent-replayed") == "true"
        if resp.status == 201 and not replayed:
            card.balance_cents = resp.json()["balance_after_cents"]
        self.model.sent.append(Sent(card, key, body, resp.status, self.model.now))
        return resp.status

    @rule(card=cards, amount=amounts)
    def buy(self, card: CardRef, amount: int) -> None:
        status = self._post(card, {"type": "purchase", "amount_cents": amount})
        allowed = card.status == "active" and amount <= card.credit_limit_cents - card.balance_cents
        assert status in ((201,) if allowed else (201, 422))

    @rule(card=cards, amount=amounts)
    def pay(self, card: CardRef, amount: int) -> None:
        self._post(card, {"type": "payment", "amount_cents": amount, "description": "thanks"})

    @precondition(lambda self: bool(self.model.sent))
    @rule(index=st.integers(min_value=0), same_body=st.booleans())
    def retry(self, index: int, same_body: bool) -> None:
        """Replay an Idempotency-Key: same body → stored answer; other body → 422.
        After the TTL the key is new again, which the other backends must agree on."""
        sent = self.model.sent[index % len(self.model.sent)]
        body = dict(sent.body)
        if not same_body:
            body["amount_cents"] = int(str(body["amount_cents"])) + 1
        self._post(sent.card, body, key=sent.key)

    # cards ------------------------------------------------------------------------------

    @rule(card=cards)
    def get_card(self, card: CardRef) -> None:
        resp = self.call("GET", f"/v1/cards/{card.id}", token=card.owner.token)
        assert resp.status == 200, resp.text
        card.stale_etag, card.etag = card.etag, resp.header("etag")
        card.balance_cents = resp.json()["balance_cents"]

    @rule(
        card=cards,
        status=st.sampled_from(["active", "blocked", "closed"]),
        which=st.sampled_from(["current", "stale", "missing"]),
    )
    def change_status(self, card: CardRef, status: str, which: str) -> None:
        etag = {"current": card.etag, "stale": card.stale_etag, "missing": None}[which]
        headers = {"If-Match": etag} if etag else {}
        resp = self.call(
            "PATCH",
            f"/v1/cards/{card.id}",
            token=card.owner.token,
            headers=headers,
            json={"status": status},
        )
        if etag is None:
            assert resp.status == 428
        if resp.status == 200:
            card.status = status
            card.stale_etag, card.etag = card.etag, resp.header("etag")

    @rule(card=cards, other=users)
    def someone_elses_card(self, card: CardRef, other: UserRef) -> None:
        resp = self.call("GET", f"/v1/cards/{card.id}", token=other.token)
        assert resp.status == (200 if other.id == card.owner.id else 404)

    @rule(
        card=cards,
        query=st.sampled_from(
            ["limit=1", "limit=2", "limit=1&type=purchase", "limit=2&type=payment", "limit=3"]
        ),
    )
    def list_transactions(self, card: CardRef, query: str) -> None:
        """Small pages (so cursors are followed) with and without a type filter."""
        self.paginate(f"/v1/cards/{card.id}/transactions?{query}", token=card.owner.token)

    # time and the outbox ----------------------------------------------------------------

    @precondition(lambda self: bool(self.all_cards))
    @rule(seconds=st.sampled_from([1, 59, 3600, TTL_SECONDS - 1, TTL_SECONDS, TTL_SECONDS + 1]))
    def time_passes(self, seconds: int) -> None:
        resp = self.call("POST", "/_parity/clock/advance", json={"seconds": seconds})
        assert resp.status == 200
        self.model.now += seconds

    @precondition(lambda self: bool(self.all_cards))
    @rule(failures=st.lists(st.booleans(), max_size=3))
    def relay(self, failures: list[bool]) -> None:
        if failures:
            self.call("POST", "/_parity/transport/fail", json={"pattern": failures})
        assert self.call("POST", "/_parity/outbox/relay", json={}).status == 200

    @rule(card=cards)
    def card_events(self, card: CardRef) -> None:
        events = self.paginate(f"/v1/events?subject={card.id}&limit=5", token=ADMIN)
        sequences = [e["sequence"] for e in events]
        assert sequences == list(range(1, len(sequences) + 1)), sequences

    # invariants (on the scenario's model: no requests) ----------------------------------

    @invariant()
    def balances_within_limits(self) -> None:
        for card in self.all_cards:
            assert 0 <= card.balance_cents <= card.credit_limit_cents, card

    @invariant()
    def pending_requests_belong_to_known_users(self) -> None:
        assert all(user.token for _, user in self.model.pending)
