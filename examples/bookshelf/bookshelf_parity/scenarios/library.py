"""One scenario: what a library app's users do, in any order.

A shelf with a few books to start with; then shelves are created, renamed and deleted,
and books created, edited, moved (sometimes to a shelf that does not exist), fetched and
deleted, with now and then a title or a year that no column holds. The list is sorted,
paged (sometimes with a limit or offset out of range), filtered, and searched for a
piece of a title in another case. Every call goes to every backend and the answers are
diffed; the scenario itself only checks that no call is a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st
from parity import (
    Bundle,
    LockstepMachine,
    Response,
    consumes,
    initialize,
    multiple,
    register,
    rule,
)

NO_SUCH_SHELF = 999_999
names = st.sampled_from(["Fiction", "fiction", "Poetry", "To read"])
# Mostly values the columns hold, now and then one they do not (a 300-character title,
# a year past a 32-bit INTEGER): sampled_from draws every entry about equally often.
titles = st.sampled_from(["Dune", "Emma", "The Hobbit", "100% Pure", "C:\\Books", "x" * 300])
authors = st.sampled_from(["Herbert", "Austen", "Tolkien"])
years = st.sampled_from([None, 1813, 1937, 1965, 1965, 2**31])
statuses = st.sampled_from(["unread", "reading", "read"])
new_books = st.fixed_dictionaries(
    {"title": titles, "author": authors, "year": years, "status": statuses}
)
sorts = st.sampled_from([None, "title", "year"])
limits = st.sampled_from([1, 2, 20, 100, 0, -1, 101])
offsets = st.sampled_from([0, 1, 2, -1])
cases: st.SearchStrategy[Callable[[str], str]] = st.sampled_from([str.lower, str.upper, str])


@register
class LibraryScenario(LockstepMachine):
    scenario = "library"
    shelves = Bundle("shelves")
    books = Bundle("books")

    def send(self, method: str, path: str, json: Any = None) -> Response:
        resp = self.call(method, path, json=json)
        assert resp.status < 500, f"{method} {path} → {resp.status}: {resp.text[:200]}"
        return resp

    def add_book(self, shelf: int, fields: dict[str, Any]) -> int | None:
        resp = self.send("POST", "/books", {"shelf_id": shelf, **fields})
        if resp.status != 201:
            return None
        book: int = resp.json()["id"]
        self.titles[book] = fields["title"]
        return book

    @initialize(target=books, stock=st.lists(new_books, max_size=4))
    def home_shelf(self, stock: list[dict[str, Any]]) -> Any:
        self.titles: dict[int, str] = {}
        resp = self.send("POST", "/shelves", {"name": "Home"})
        assert resp.status == 201, resp.text
        self.home: int = resp.json()["id"]  # never deleted: books can always go here
        return multiple(*filter(None, (self.add_book(self.home, b) for b in stock)))

    # shelves ----------------------------------------------------------------------------

    @rule(target=shelves, name=names)
    def create_shelf(self, name: str) -> Any:
        resp = self.send("POST", "/shelves", {"name": name})
        return multiple(resp.json()["id"]) if resp.status == 201 else multiple()

    @rule(shelf=shelves, name=names)
    def rename_shelf(self, shelf: int, name: str) -> None:
        self.send("PATCH", f"/shelves/{shelf}", {"name": name})

    @rule(target=shelves, shelf=consumes(shelves))
    def delete_shelf(self, shelf: int) -> Any:
        resp = self.send("DELETE", f"/shelves/{shelf}")
        return multiple() if resp.status == 204 else multiple(shelf)  # still there

    @rule()
    def list_shelves(self) -> None:
        self.send("GET", "/shelves")

    # books ------------------------------------------------------------------------------

    @rule(target=books, shelf=st.none() | shelves, fields=new_books)
    def create_book(self, shelf: int | None, fields: dict[str, Any]) -> Any:
        book = self.add_book(self.home if shelf is None else shelf, fields)
        return multiple() if book is None else multiple(book)

    @rule(
        book=books,
        changes=st.fixed_dictionaries(
            {},
            optional={"title": titles, "author": authors, "year": years, "status": statuses},
        ),
        move_to=st.none() | shelves | st.just(NO_SUCH_SHELF),
    )
    def update_book(self, book: int, changes: dict[str, Any], move_to: int | None) -> None:
        if move_to is not None:
            changes["shelf_id"] = move_to
        if self.send("PATCH", f"/books/{book}", changes).status == 200 and "title" in changes:
            self.titles[book] = changes["title"]

    @rule(book=books)
    def get_book(self, book: int) -> None:
        self.send("GET", f"/books/{book}")

    @rule(book=books)
    def delete_book(self, book: int) -> None:
        self.send("DELETE", f"/books/{book}")

    # lists ------------------------------------------------------------------------------

    @rule(
        sort=sorts,
        paging=st.fixed_dictionaries({}, optional={"limit": limits, "offset": offsets}),
    )
    def list_books(self, sort: str | None, paging: dict[str, int]) -> None:
        self.list({"sort": sort, **paging})

    @rule(
        shelf=st.none() | shelves,
        author=st.none() | authors,
        status=st.none() | statuses,
        sort=sorts,
    )
    def filter_books(
        self, shelf: int | None, author: str | None, status: str | None, sort: str | None
    ) -> None:
        self.list({"shelf_id": shelf, "author": author, "status": status, "sort": sort})

    @rule(book=books, case=cases, start=st.integers(0, 4), size=st.integers(1, 4))
    def search_books(self, book: int, case: Callable[[str], str], start: int, size: int) -> None:
        self.list({"q": case(self.titles[book][start : start + size]) or "e"})

    def list(self, query: dict[str, Any]) -> None:
        params = {key: value for key, value in query.items() if value is not None}
        self.send("GET", f"/books?{urlencode(params)}" if params else "/books")
