"""The transactional outbox under a failing transport, driven by the manual clock.

Rules
- ``first_card`` (initialize) — every example starts with a user and an active card,
  so its events (three subjects) are pending from the first step.
- ``sign_up``, ``open_card``, ``purchase`` — state changes; each must commit its events.
- ``relay`` — queue a generated schedule of transport failures (True = that publish
  fails; often none), then one relay run; its answer (published, failed, dead-lettered
  ids, in order) must equal the model's prediction exactly. Retries, backoff and
  dead-lettering happen where Hypothesis puts them, and a relay whose transport fails
  is one rule, not two (a failed delivery needs fewer steps to find and to shrink).
- ``advance`` / ``advance_to_due`` — move the clock by whole seconds, or to exactly the
  next retry instant of a failed event (or one microsecond before it).
- ``relay_crash`` — the relay publishes one event and dies before marking it sent
  (``POST /_parity/outbox/relay {"crash_after_publish": true}``: a recorded call).
- ``deliveries`` — what the transport received, compared across backends and checked.

Model: every event the API committed (learnt from ``/v1/events`` after state changes:
each purchase must add exactly one ``card.purchase`` event carrying its transaction, and
every aggregate's sequences stay gapless) with its delivery state. A relay run takes the
pending events per subject in sequence order; one not yet due holds back the rest of its
subject; a failed publish schedules the next attempt ``delay(id, attempt)`` seconds later
using the app's own :class:`RetryPolicy` (capped exponential backoff, full jitter, a pure
function of event id and attempt); the ``max_attempts``-th failure dead-letters it and the
subject's next event proceeds in the same run. A crash leaves the event pending: it is
published again later with the same id (at-least-once), never lost.

What it proves: every backend stores, orders, retries, schedules and dead-letters outbox
events exactly as the contract says, and a consumer that deduplicates on the event id
sees every committed event of an aggregate once, in sequence order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from reference_app.service_layer.backoff import RetryPolicy
from scenarios import LEDGER_CONTROLS, LEDGER_REQUIRES, LockstepMachine, register
from scenarios._accounts import open_account
from scenarios.binding import ADMIN

POLICY = RetryPolicy(max_attempts=5, base_delay_seconds=1.0, max_delay_seconds=300.0)
START = datetime(2026, 1, 1, tzinfo=UTC)  # the manual clock's epoch


@dataclass
class Event:
    id: str
    subject: str
    sequence: int
    status: str = "pending"
    attempts: int = 0
    due: datetime = START


@register
class OutboxScenario(LockstepMachine):
    requires = LEDGER_REQUIRES
    controls = LEDGER_CONTROLS
    scenario = "outbox"

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.events: dict[str, Event] = {}
        self.order: list[str] = []  # ids oldest first, as the API lists them
        self.schedule: list[bool] = []
        self.delivered: list[str] = []  # ids in delivery order, duplicates included
        self.cards: list[tuple[str, str]] = []  # (card id, token)
        self.versions: dict[str, int] = {}  # card id -> its version (= its last sequence)
        self.tokens: list[str] = []
        self.dirty = False
        self.n = 0
        self.data: dict[str, Any] = {}  # event id -> its CloudEvents data

    # state changes ------------------------------------------------------------------

    @initialize()
    def first_card(self) -> None:
        """A user with an active card from the start: the relay has events on three
        subjects to deliver at once, and a bug in retrying or ordering needs only the
        failing relay and the one after it (two calls of set-up in every trace)."""
        self.n += 1
        account = open_account(self, "Out", self.n)
        self.tokens.append(account.token)
        self.cards.append((account.card_id, account.token))
        self.versions[account.card_id] = 1  # issued: the card's first event
        self.dirty = True

    @rule()
    def sign_up(self) -> None:
        self.n += 1
        body = {"name": f"Out {self.n}", "email": f"out{self.n}@example.com", "score": 750}
        resp = self.call("POST", "/v1/users", json=body)
        assert resp.status == 201, resp.text
        self.tokens.append(resp.json()["access_token"])
        self.dirty = True

    @precondition(lambda self: bool(self.tokens))
    @rule(who=st.integers(0, 3))
    def open_card(self, who: int) -> None:
        token = self.tokens[who % len(self.tokens)]
        self.n += 1
        resp = self.call(
            "POST",
            "/v1/card-requests",
            token=token,
            headers={"Idempotency-Key": f"c{self.n}"},
            json={},
        )
        assert resp.status == 201, resp.text
        self.cards.append((resp.json()["card_id"], token))
        self.versions[resp.json()["card_id"]] = 1  # issued: the card's first event
        self.dirty = True

    @precondition(lambda self: bool(self.cards))
    @rule(which=st.integers(0, 3), amount=st.integers(1, 50_000))
    def purchase(self, which: int, amount: int) -> None:
        card, token = self.cards[which % len(self.cards)]
        self.n += 1
        resp = self.call(
            "POST",
            f"/v1/cards/{card}/transactions",
            token=token,
            headers={"Idempotency-Key": f"p{self.n}"},
            json={"type": "purchase", "amount_cents": amount},
        )
        assert resp.status == 201, resp.text
        self.versions[card] += 1
        # One listing after the purchase (none before: a shrunk trace carries no more
        # bookkeeping reads than it needs). The card's events are exactly its versions
        # (issued, then one per purchase: no extra, none missing) and the newest is
        # this purchase's.
        self._sync()
        mine = [self.events[i] for i in self.order if self.events[i].subject == card]
        assert [e.sequence for e in mine] == list(range(1, self.versions[card] + 1)), (
            "one event per purchase",
            mine,
        )
        assert self.data[mine[-1].id]["id"] == resp.json()["id"], "the event is not its change"

    def _sync(self) -> None:
        """Learn the events committed since the last look (one compared listing)."""
        items = self.paginate("/v1/events?limit=100", token=ADMIN)
        for item in items:
            if item["id"] not in self.events:
                self.events[item["id"]] = Event(
                    item["id"], item["subject"], item["sequence"], due=_ts(item["time"])
                )
                self.order.append(item["id"])
            self.data[item["id"]] = item["data"]
        per_subject: dict[str, list[int]] = {}
        for event_id in self.order:
            e = self.events[event_id]
            per_subject.setdefault(e.subject, []).append(e.sequence)
        for subject, seqs in per_subject.items():
            assert seqs == list(range(1, len(seqs) + 1)), (subject, seqs)
        self.dirty = False

    # the transport and the relay ----------------------------------------------------

    def _chains(self) -> list[list[Event]]:
        pending = sorted(
            (e for e in self.events.values() if e.status == "pending"),
            key=lambda e: (e.subject, e.sequence),
        )
        chains: dict[str, list[Event]] = {}
        for e in pending:
            chains.setdefault(e.subject, []).append(e)
        return list(chains.values())

    def _predict(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {"published": [], "failed": [], "dead_lettered": []}
        for chain in self._chains():
            for e in chain:
                if e.due > self.now:
                    break
                e.attempts += 1
                if self.schedule and self.schedule.pop(0):
                    if e.attempts >= POLICY.max_attempts:
                        e.status = "dead"
                        out["dead_lettered"].append(e.id)
                        continue
                    e.due = self.now + timedelta(seconds=POLICY.delay(e.id, e.attempts))
                    out["failed"].append(e.id)
                    break
                e.status = "sent"
                self.delivered.append(e.id)
                out["published"].append(e.id)
        return out

    @rule(failures=st.lists(st.booleans(), max_size=4))
    def relay(self, failures: list[bool]) -> None:
        if self.dirty:
            self._sync()
        if failures:
            resp = self.call("POST", "/_parity/transport/fail", json={"pattern": failures})
            assert resp.status == 200, resp.text
            self.schedule.extend(failures)
        resp = self.call("POST", "/_parity/outbox/relay", json={})
        assert resp.status == 200, resp.text
        expected = self._predict()
        assert resp.json() == expected, (resp.json(), expected)

    @precondition(lambda self: not self.schedule)
    @rule()
    def relay_crash(self) -> None:
        """Publish, then die before mark-sent: the event stays pending (a duplicate
        follows with the same id), on every backend alike. A recorded call like every
        other: a crash injected by reaching into the apps left no step in the trace, so
        a divergence it caused (a backend publishing a held-back event) showed at a
        later listing that no replay could reproduce."""
        if self.dirty:
            self._sync()
        due = next((e for chain in self._chains() for e in chain[:1] if e.due <= self.now), None)
        resp = self.call("POST", "/_parity/outbox/relay", json={"crash_after_publish": True})
        assert resp.status == 200, resp.text
        assert resp.json() == {"crashed_after": due.id if due else None}, (resp.json(), due)
        if due is not None:
            self.delivered.append(due.id)  # published, never marked: still pending

    @rule(seconds=st.sampled_from([1, 2, 5, 30, 300]))
    def advance(self, seconds: int) -> None:
        self._advance(timedelta(seconds=seconds))

    def _advance(self, delta: timedelta) -> None:
        seconds = delta.total_seconds()
        resp = self.call("POST", "/_parity/clock/advance", json={"seconds": seconds})
        assert resp.status == 200, resp.text
        self.now += timedelta(seconds=seconds)
        assert _ts(resp.json()["now"]) == self.now, (resp.text, self.now)

    @precondition(
        lambda self: any(e.status == "pending" and e.due > self.now for e in self.events.values())
    )
    @rule(early=st.booleans())
    def advance_to_due(self, early: bool) -> None:
        """Land exactly on the next retry instant, or one microsecond before it."""
        due = min(e.due for e in self.events.values() if e.status == "pending" and e.due > self.now)
        delta = due - self.now - (timedelta(microseconds=1) if early else timedelta(0))
        if delta > timedelta(0):
            self._advance(delta)

    @rule()
    def deliveries(self) -> None:
        resp = self.call("GET", "/_parity/transport/published")
        ids = [item["id"] for item in resp.json()["items"]]
        assert ids == self.delivered, (ids, self.delivered)
        seen: set[str] = set()
        last: dict[str, int] = {}
        for item in resp.json()["items"]:
            if item["id"] in seen:
                continue  # a consumer deduplicates on the event id
            seen.add(item["id"])
            assert item["sequence"] > last.get(item["subject"], 0), ("out of order", item)
            last[item["subject"]] = item["sequence"]
        sent = {e.id for e in self.events.values() if e.status == "sent"}
        assert sent <= seen, ("an event marked sent was never delivered", sent - seen)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
