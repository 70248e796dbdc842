"""Long histories on purpose: two- and three-digit sequences, full maximum pages.

Small examples never reach ten pending events on one aggregate nor a listing at the
maximum page size (100) with more behind it, so a store that sorts sequence numbers as
text (``"10" < "9"``) or a repository that caps a query at 100 rows (eating the
service's "limit + 1" probe row, so the last full page hides the next) passes every other
scenario. Histories are built through the API, many calls inside one rule, and capped
(:data:`MAX_ROWS`) so one example stays a few hundred calls.

Rules
- ``open_card`` (initialize) — a top-tier user and its card.
- ``bulk`` — 9, 10 or 11 purchases of one cent in one rule: the card's event sequence
  passes 9→10 (each purchase is the card's next version).
- ``fill_to`` — purchases until the card holds exactly 99, 100 or 101 transactions
  (sequences pass 99→100→101), then the listing at the maximum page size: one short
  of, at and one past a full page.
- ``relay`` — one outbox relay run: per aggregate its events go out in sequence order
  (the answer lists them; compared across backends) and ``/_parity/transport/published``
  holds each subject's sequences in increasing order.
- ``page_through`` — every transaction through pages of 9, 10, 99 or 100: every page
  but the last is full, the rows are every transaction exactly once, newest first.
- ``events_of_card`` — the card's events through pages of 100: sequences 1, 2, 3, … with
  no gap, oldest first.

A listing, relay or event read that would see nothing new since the same one last ran
makes no calls: an example's cost is its history, not how often Hypothesis lists it.

What it proves: numbers order as numbers and a full maximum page still says whether more
rows follow, on every backend.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from scenarios import LEDGER_CONTROLS, LEDGER_REQUIRES, LockstepMachine, register
from scenarios._accounts import open_account
from scenarios.binding import ADMIN

#: the API's maximum page size (``limit``)
MAX_PAGE = 100
#: transactions one example may hold: one past a full maximum page, and no further. 201
#: (two pages) doubled the scenario's cost for no bug class a 101-row history misses.
MAX_ROWS = MAX_PAGE + 1
#: bulk sizes around 10 (cheap); ``fill_to`` reaches 100 — the costly part of a history —
#: in one rule, so an example pays for a hundred purchases only when it draws that rule
BULKS = (9, 10, 11)
FILL_TARGETS = (MAX_PAGE - 1, MAX_PAGE, MAX_PAGE + 1)


@register
class VolumeScenario(LockstepMachine):
    requires = LEDGER_REQUIRES
    controls = LEDGER_CONTROLS
    scenario = "volume"
    paths = (
        "sequence past 10",
        "sequence past 100",
        "relay of ten or more events of one aggregate",
        "full maximum page with more behind it",
        "exactly a multiple of the maximum page",
    )

    @initialize()
    def open_card(self) -> None:
        opened = open_account(self, "Volume", 1)
        self.token, self.card_id = opened.token, opened.card_id
        self.rows: list[str] = []  # transaction ids, oldest first
        self.pending = 1  # events since the last relay run (the card's own first)
        self.paged: set[tuple[int, int]] = set()  # (rows, limit) listings already compared
        self.listed_events: set[int] = set()  # row counts whose events were compared

    def _purchases(self, count: int) -> None:
        for _ in range(min(count, MAX_ROWS - len(self.rows))):
            resp = self.call(
                "POST",
                f"/v1/cards/{self.card_id}/transactions",
                token=self.token,
                headers={"Idempotency-Key": f"v{len(self.rows)}"},
                json={"type": "purchase", "amount_cents": 1},
            )
            assert resp.status == 201, resp.text
            self.rows.append(resp.json()["id"])
            self.pending += 1

    @rule(count=st.sampled_from(BULKS))
    def bulk(self, count: int) -> None:
        self._purchases(count)

    @rule(rows=st.sampled_from(FILL_TARGETS))
    def fill_to(self, rows: int) -> None:
        if len(self.rows) < MAX_PAGE < rows:
            # passing a full maximum page: list it there too (one call), so "exactly a
            # multiple of the maximum page" is not left to one draw in three
            self._purchases(MAX_PAGE - len(self.rows))
            self._page_through(MAX_PAGE)
        self._purchases(rows - len(self.rows))
        self._page_through(MAX_PAGE)

    @rule()
    def relay(self) -> None:
        if not self.pending:
            return  # nothing to publish: spend no calls
        resp = self.call("POST", "/_parity/outbox/relay", json={})
        assert resp.status == 200, resp.text
        if self.pending >= 10:
            self.reached("relay of ten or more events of one aggregate")
        self.pending = 0
        published = self.call("GET", "/_parity/transport/published")
        assert published.status == 200, published.text
        last: dict[str, int] = {}
        for event in published.json()["items"]:  # CloudEvents, in publishing order
            subject, sequence = event["subject"], event["sequence"]
            assert sequence > last.get(subject, 0), ("published out of order", event)
            last[subject] = sequence

    @rule(limit=st.sampled_from([9, 10, 99, MAX_PAGE]))
    def page_through(self, limit: int) -> None:
        self._page_through(limit)

    def _page_through(self, limit: int) -> None:
        if (len(self.rows), limit) in self.paged:
            return  # nothing new to see: spend no calls
        self.paged.add((len(self.rows), limit))
        path = f"/v1/cards/{self.card_id}/transactions?limit={limit}"
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(len(self.rows) // limit + 2):
            page = self.call(
                "GET", path + (f"&cursor={cursor}" if cursor else ""), token=self.token
            )
            assert page.status == 200, page.text
            items, cursor = page.json()["items"], page.json()["next_cursor"]
            seen += [item["id"] for item in items]
            if not cursor:
                break
            assert len(items) == limit, ("a page before the last is short", len(items))
            if limit == MAX_PAGE:
                self.reached("full maximum page with more behind it")
        if self.rows and len(self.rows) % MAX_PAGE == 0 and limit == MAX_PAGE:
            self.reached("exactly a multiple of the maximum page")
        assert seen == self.rows[::-1], ("not every row once, newest first", len(seen))

    @rule()
    def events_of_card(self) -> None:
        if len(self.rows) in self.listed_events:
            return  # nothing new to see: spend no calls
        self.listed_events.add(len(self.rows))
        events = self.paginate(f"/v1/events?subject={self.card_id}&limit={MAX_PAGE}", token=ADMIN)
        sequences = [event["sequence"] for event in events]
        assert sequences == list(range(1, len(sequences) + 1)), sequences
        if len(sequences) > 10:
            self.reached("sequence past 10")
        if len(sequences) > 100:
            self.reached("sequence past 100")
