"""Time and data with a real system's texture: ticking clocks and hostile strings.

A still clock stores every time at ``.000000`` and narrow alphabets never reach a
collation's edge, so a store that keeps milliseconds, or merges ``straße`` with
``STRASSE``, passes every other scenario. This one draws what stores disagree about.

Rules
- ``ticking_clock`` (initialize) — the clock ticks: each later read creeps its sub-second part by
  the next of 1-4 drawn microsecond steps, coarse (``.000000``, ``.999999``, equal times
  when a step is 0 or the creep meets the end of its second) or fine (under a
  millisecond: many distinct times per second); the creep restarts in each second an
  ``advance`` with a sub-second part reaches. Then a user with an active card.
- ``sign_up`` — a user with a drawn name (any text the API takes: empty-looking,
  whitespace, NFC/NFD, emoji, 100 characters) and e-mail (case, accents, 254
  characters), read back through ``/v1/users/me``. The app lower-cases e-mails
  (``str.lower``): an address whose lower-cased form is new is a new account (201),
  otherwise it is taken (409).
- ``sign_up_variant`` — an earlier address with its case flipped or normalised to NFC/NFD:
  "one account or two" decided by ``str.lower``, never by a store's collation.
- ``transact`` — a purchase or payment of 1 cent up to the API's maximum (10^11) with a
  drawn description: 201 within the credit limit / balance, 422 beyond it.
- ``burst`` — 2-4 small purchases back to back, the clock moved only by its creep: a
  busy card's one second, so a listing holds times within one second (distinct ones
  under fine ticks, equal ones once a coarse creep has filled the second). Their
  descriptions are drawn like ``transact``'s: small amounts always fit, so the edge
  texts (the empty one too) are stored, not only refused with the amount.
- ``replay`` — the latest transaction's Idempotency-Key again, after the clock moved (half
  the time it jumps just past the TTL plus the creep's blur first, a sequence the
  ``advance`` rule alone seldom builds before the next transaction):
  the stored answer within the 24 h TTL, a new transaction after it (near the boundary
  only the backends' agreement is checked: the creep blurs it by under a second).
- ``whole_second`` — the clock lands on a whole second: a purchase at ``.000000``,
  another later in that second, the listing (the order variable-width text gets wrong).
- ``advance`` — the clock moves by a drawn duration at microsecond resolution, often just
  before, on or after the idempotency TTL and the in-flight timeout.
- ``list_transactions`` — every transaction through pages of a drawn size, newest first
  by (created_at, id), as the model ordered them from the times the API returned.

What it proves: every backend keeps times to the microsecond (no rounding of
``.999999`` into the next second), orders equal and sub-second times alike, stores text
byte for byte and compares e-mails exactly as the app normalised them.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from parity import strategies as ps
from scenarios import LEDGER_CONTROLS, LEDGER_REQUIRES, LockstepMachine, register

#: the API's limits (reference_app/openapi.yaml)
MAX_NAME = 100
MAX_EMAIL = 254
MAX_DESCRIPTION = 200
MAX_AMOUNT = 100_000_000_000
#: score 750: the card is approved at once with this credit limit (cents)
CREDIT_LIMIT = 300_000
#: a burst's purchases: a few of them fit the credit limit many times over
SMALL_AMOUNT = CREDIT_LIMIT // 100
#: the reference app's idempotency TTL and in-flight timeout (settings defaults)
IDEMPOTENCY_TTL = 24 * 3600
INFLIGHT_TIMEOUT = 60
#: the clock's creep never reaches a whole second: a model's elapsed time is this exact
CREEP = timedelta(seconds=1)
#: the least advance past the TTL that the creep's blur cannot hide (``replay``'s jump)
PAST_TTL = timedelta(seconds=IDEMPOTENCY_TTL) + CREEP + timedelta(microseconds=1)
#: tokens live 30 days: the clock stays well inside that, so no rule meets a 401
TOKEN_SAFE = timedelta(days=20)

#: its upper case lower-cases to ``strasse`` and its NFD form keeps the accent apart: two
#: variants that ``str.lower`` keeps as accounts of their own, a collation merges
FIRST_EMAIL = "René.Straße@exämple.com"

descriptions = st.none() | ps.text(max_size=MAX_DESCRIPTION)
#: creep steps at the rounding boundaries (``.999999`` at once, ``.5`` twice): a second
#: soon fills, so its later readings are equal
coarse_ticks = st.lists(ps.microseconds(), min_size=1, max_size=4)
#: steps under a millisecond: a second (and a millisecond) holds many distinct readings,
#: the ones a store that keeps milliseconds or orders by whole seconds merges
fine_ticks = st.lists(st.integers(0, 999), min_size=1, max_size=4)


@register
class TextureScenario(LockstepMachine):
    requires = LEDGER_REQUIRES
    controls = LEDGER_CONTROLS
    scenario = "texture"
    paths = (
        "sub-second times in one listing",
        "equal times in one listing",
        "a time at .999999",
        "a whole second beside later times in it",
        "e-mail variant taken",
        "e-mail variant is its own account",
        "amount beyond the credit limit",
        "replayed within the TTL",
        "new transaction after the TTL",
    )

    @initialize(ticks=st.one_of(coarse_ticks, fine_ticks))
    def ticking_clock(self, ticks: list[int]) -> None:
        self.ticks = ticks
        self._tick(ticks)
        self.emails: list[str] = []  # as sent
        self.taken: set[str] = set()  # as the app stores them
        self.txns: list[tuple[str, str]] = []  # (created_at, id)
        self.balance = 0
        self.elapsed = timedelta(0)  # clock advances since the latest transaction
        self.moved = timedelta(0)  # clock advances in all
        self.latest: tuple[str, dict[str, object]] | None = None  # (key, body)
        self.keys = 0
        user = self._sign_up("Texture", FIRST_EMAIL)
        assert user is not None
        self.token = user
        req = self.call(
            "POST",
            "/v1/card-requests",
            token=self.token,
            headers={"Idempotency-Key": "open"},
            json={},
        )
        assert req.status == 201 and req.json()["card_id"], req.text
        self.card_id = req.json()["card_id"]

    def _sign_up(self, name: str, email: str) -> str | None:
        """Sign up and read the user back from the store; the token, or None if taken."""
        resp = self.call("POST", "/v1/users", json={"name": name, "email": email, "score": 750})
        stored = email.strip().lower()
        if stored in self.taken:
            assert resp.status == 409, (email, resp.status, resp.text)
            return None
        assert resp.status == 201, (email, resp.status, resp.text)
        self.taken.add(stored)
        self.emails.append(email)
        token: str = resp.json()["access_token"]
        me = self.call("GET", "/v1/users/me", token=token)
        assert me.status == 200, me.text
        assert (me.json()["name"], me.json()["email"]) == (name, stored), me.text
        if me.json()["created_at"].endswith(".999999Z"):
            self.reached("a time at .999999")
        return token

    @rule(name=ps.text(min_size=1, max_size=MAX_NAME), email=ps.emails(max_size=MAX_EMAIL))
    def sign_up(self, name: str, email: str) -> None:
        self._sign_up(name, email)

    @rule(index=st.integers(0, 20), data=st.data())
    def sign_up_variant(self, index: int, data: st.DataObject) -> None:
        email = data.draw(ps.case_variants(self.emails[index % len(self.emails)]))
        taken = email.strip().lower() in self.taken
        self._sign_up("Variant", email)
        self.reached("e-mail variant taken" if taken else "e-mail variant is its own account")

    @rule(
        kind=st.sampled_from(["purchase", "payment"]),
        amount=ps.integers(1, MAX_AMOUNT),
        description=descriptions,
    )
    def transact(self, kind: str, amount: int, description: str | None) -> None:
        if kind == "payment" and self.balance and amount > self.balance:
            amount = self.balance  # pay it off: a payment that goes through
        self._transact(kind, amount, description)

    @rule(
        purchases=st.lists(
            st.tuples(st.integers(1, SMALL_AMOUNT), descriptions), min_size=2, max_size=4
        )
    )
    def burst(self, purchases: list[tuple[int, str | None]]) -> None:
        for amount, description in purchases:
            self._transact("purchase", amount, description)

    def _transact(self, kind: str, amount: int, description: str | None) -> None:
        self.keys += 1
        key = f"t{self.keys}"
        body: dict[str, object] = {"type": kind, "amount_cents": amount}
        if description is not None:
            body["description"] = description
        resp = self.call(
            "POST",
            f"/v1/cards/{self.card_id}/transactions",
            token=self.token,
            headers={"Idempotency-Key": key},
            json=body,
        )
        fits = (
            self.balance + amount <= CREDIT_LIMIT if kind == "purchase" else amount <= self.balance
        )
        if not fits:
            assert resp.status == 422, resp.text
            if kind == "purchase":
                self.reached("amount beyond the credit limit")
            return
        assert resp.status == 201, resp.text
        txn = resp.json()
        assert txn["description"] == description, txn
        self.balance += amount if kind == "purchase" else -amount
        self.txns.append((txn["created_at"], txn["id"]))
        self.latest, self.elapsed = (key, body), timedelta(0)

    @precondition(lambda self: self.latest is not None)
    @rule(expire=st.booleans())
    def replay(self, expire: bool) -> None:
        assert self.latest is not None
        if expire:
            self._advance(PAST_TTL)
        key, body = self.latest
        resp = self.call(
            "POST",
            f"/v1/cards/{self.card_id}/transactions",
            token=self.token,
            headers={"Idempotency-Key": key},
            json=body,
        )
        assert resp.status in (201, 422), resp.text
        ttl = timedelta(seconds=IDEMPOTENCY_TTL)
        if self.elapsed + CREEP < ttl:
            assert resp.json()["id"] == self.txns[-1][1], ("not replayed", resp.text)
            self.reached("replayed within the TTL")
        elif self.elapsed > ttl + CREEP and resp.status == 201:
            assert resp.json()["id"] != self.txns[-1][1], ("replayed after the TTL", resp.text)
            self.reached("new transaction after the TTL")
        if resp.status == 201 and resp.json()["id"] != self.txns[-1][1]:
            amount = int(str(body["amount_cents"]))
            self.balance += amount if body["type"] == "purchase" else -amount
            self.txns.append((resp.json()["created_at"], resp.json()["id"]))
            self.elapsed = timedelta(0)

    @rule(
        delta=ps.seconds(
            max_seconds=IDEMPOTENCY_TTL + 1, around=[INFLIGHT_TIMEOUT, IDEMPOTENCY_TTL]
        )
    )
    def advance(self, delta: timedelta) -> None:
        self._advance(delta)

    def _advance(self, delta: timedelta) -> str | None:
        """Move the clock; its reading after the move (None: the move was skipped)."""
        if self.moved + delta > TOKEN_SAFE:
            return None
        self.moved += delta
        resp = self.call("POST", "/_parity/clock/advance", json={"seconds": delta.total_seconds()})
        assert resp.status == 200, resp.text
        self.elapsed += delta
        now: str = resp.json()["now"]
        return now

    def _tick(self, ticks: list[int]) -> None:
        tick = self.call("POST", "/_parity/clock/tick", json={"microseconds": ticks})
        assert tick.status == 200, tick.text

    @rule(step=st.integers(1, 999_999))
    def whole_second(self, step: int) -> None:
        """Two purchases in one second, the first on the whole second (``.000000``), the
        other ``step`` µs or more later, then the listing. Without it a whole-second time
        is an example's first reading only: a store that keeps times as variable-width
        text (``isoformat()`` drops a whole second's fraction, and ``Z`` sorts after
        ``.``) lists the first purchase as the newer one, and no other rule shows it."""
        # an advance with a sub-second part restarts the creep: the reading is the
        # clock's position, whose fraction the second advance tops up to a whole second
        landed = self._advance(timedelta(seconds=1, microseconds=500_000))
        if landed is None:
            return
        fraction = int(landed[20:26])
        if self._advance(timedelta(seconds=2, microseconds=-fraction)) is None:
            return
        self._tick([0])  # every reading stays on the whole second
        self._transact("purchase", 1, None)
        self._tick([step])
        self._transact("purchase", 1, None)
        self._tick(self.ticks)
        self.list_transactions(100)

    @rule(limit=st.sampled_from([1, 2, 3, 7, 100]))
    def list_transactions(self, limit: int) -> None:
        items = self.paginate(
            f"/v1/cards/{self.card_id}/transactions?limit={limit}", token=self.token
        )
        listed = [(item["created_at"], item["id"]) for item in items]
        assert listed == sorted(self.txns, reverse=True), ("listing order", listed)
        times = [when for when, _ in listed]
        if len(set(times)) < len(times):
            self.reached("equal times in one listing")
        if len({when[:19] for when in times}) < len(set(times)):
            self.reached("sub-second times in one listing")
        whole = {when[:19] for when in times if when.endswith(".000000Z")}
        if any(when[:19] in whole and not when.endswith(".000000Z") for when in times):
            self.reached("a whole second beside later times in it")
        if any(when.endswith(".999999Z") for when in times):
            self.reached("a time at .999999")
