"""Cursor pagination while rows arrive, filtered pages, and tampered cursors.

Rules
- ``add`` — a purchase or payment on the card (optionally after a clock advance, so
  rows share or differ in ``created_at`` and order by id within one instant).
- ``page_through`` — follow ``next_cursor`` with a generated page size and filter while
  new rows are inserted between pages. Every row that existed before the first page
  (and matches the filter) is seen exactly once, newest first by (created_at, id); the
  new rows never push an old one off a page nor repeat it. Every page but the last is
  full, even with a filter (a DynamoDB ``Limit`` before ``FilterExpression`` bug shows
  up as a short page).
- ``tampered_cursor`` — a cursor edited (a flipped character, truncated, its signature
  swapped), made up, or taken from another listing or another filter is 400.

Every page is also compared across backends (cursors by following them, not by value).

What it proves: keyset pagination is stable under concurrent inserts, filtered pages are
full and cursors are tamper-evident, the same way on every backend.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from scenarios import LEDGER_CONTROLS, LEDGER_REQUIRES, LockstepMachine, register

kinds = st.sampled_from([None, "purchase", "payment"])


@register
class PaginationScenario(LockstepMachine):
    requires = LEDGER_REQUIRES
    controls = LEDGER_CONTROLS
    scenario = "pagination"

    @initialize()
    def card(self) -> None:
        body = {"name": "Pager", "email": "pager@example.com", "score": 750}
        user = self.call("POST", "/v1/users", json=body)
        assert user.status == 201, user.text
        self.token = user.json()["access_token"]
        req = self.call(
            "POST",
            "/v1/card-requests",
            token=self.token,
            headers={"Idempotency-Key": "open"},
            json={},
        )
        assert req.status == 201, req.text
        self.card_id = req.json()["card_id"]
        self.rows: list[tuple[str, str]] = []  # (id, type), oldest first
        self.balance = 0
        self.n = 0

    def _add(self, kind: str) -> None:
        amount = 1_000
        if kind == "payment" and self.balance < amount:
            kind = "purchase"
        self.n += 1
        resp = self.call(
            "POST",
            f"/v1/cards/{self.card_id}/transactions",
            token=self.token,
            headers={"Idempotency-Key": f"t{self.n}"},
            json={"type": kind, "amount_cents": amount},
        )
        assert resp.status == 201, resp.text
        self.balance += amount if kind == "purchase" else -amount
        self.rows.append((resp.json()["id"], kind))

    @rule(
        kind=st.sampled_from(["purchase", "payment"]), tick=st.booleans(), count=st.integers(1, 4)
    )
    def add(self, kind: str, tick: bool, count: int) -> None:
        if tick:
            assert self.call("POST", "/_parity/clock/advance", json={"seconds": 1}).status == 200
        for _ in range(count):
            self._add(kind)

    def _path(self, limit: int, kind: str | None, cursor: str | None = None) -> str:
        path = f"/v1/cards/{self.card_id}/transactions?limit={limit}"
        if kind:
            path += f"&type={kind}"
        return path + (f"&cursor={cursor}" if cursor else "")

    @rule(limit=st.integers(1, 5), kind=kinds, inserts=st.lists(st.integers(0, 2), max_size=6))
    def page_through(self, limit: int, kind: str | None, inserts: list[int]) -> None:
        expected = [i for i, k in reversed(self.rows) if kind in (None, k)]
        seen: list[str] = []
        cursor: str | None = None
        for page_no in range(len(expected) // limit + 2):
            page = self.call("GET", self._path(limit, kind, cursor), token=self.token)
            assert page.status == 200, page.text
            items = page.json()["items"]
            cursor = page.json()["next_cursor"]
            if cursor:
                assert len(items) == limit, ("a page before the last is short", page.text)
            seen += [item["id"] for item in items]
            if not cursor:
                break
            for _ in range(inserts[page_no] if page_no < len(inserts) else 0):
                self._add(kind or "purchase")
        new = {i for i, _ in self.rows} - set(expected)
        old_seen = [i for i in seen if i not in new]
        assert old_seen == expected, ("skipped, repeated or reordered", old_seen, expected)
        assert len(seen) == len(set(seen)), ("a row came twice", seen)

    @rule(
        limit=st.integers(1, 3),
        kind=kinds,
        how=st.sampled_from(["flip", "truncate", "swap-sig", "garbage", "other-filter"]),
    )
    def tampered_cursor(self, limit: int, kind: str | None, how: str) -> None:
        while len(self.rows) <= limit:
            self._add("purchase")
        first = self.call("GET", self._path(limit, None), token=self.token)
        cursor = first.json()["next_cursor"]
        assert cursor, first.text
        payload, _, sig = cursor.partition(".")
        bad = {
            "flip": payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + sig,
            "truncate": cursor[: len(cursor) // 2],
            "swap-sig": payload + "." + sig[::-1],
            "garbage": "not-a-cursor",
            "other-filter": cursor,
        }[how]
        other = kind or "purchase"  # a cursor of the unfiltered listing, used filtered
        resp = self.call(
            "GET",
            self._path(limit, other if how == "other-filter" else None, bad),
            token=self.token,
        )
        assert resp.status == 400, (how, resp.status, resp.text)
