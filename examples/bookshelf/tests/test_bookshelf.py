"""The Bookshelf API: the fixed app (SQLite, and PostgreSQL when configured), and what each
fix changed, as SQLite shows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bookshelf import FIXES, create_app

MakeClient = Callable[..., TestClient]


def shelf(client: TestClient, name: str = "Fiction") -> int:
    resp = client.post("/shelves", json={"name": name})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def book(client: TestClient, shelf_id: int, title: str, **fields: Any) -> dict[str, Any]:
    body = {"shelf_id": shelf_id, "title": title, "author": "Le Guin", **fields}
    resp = client.post("/books", json=body)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


def titles(client: TestClient, **params: Any) -> list[str]:
    resp = client.get("/books", params=params)
    assert resp.status_code == 200, resp.text
    return [item["title"] for item in resp.json()["items"]]


# the fixed app --------------------------------------------------------------------------


def test_book_crud(client: TestClient) -> None:
    shelf_id = shelf(client)
    created = book(client, shelf_id, "The Dispossessed", year=1974)
    assert created == {
        "id": 1,
        "shelf_id": shelf_id,
        "title": "The Dispossessed",
        "author": "Le Guin",
        "year": 1974,
        "status": "unread",
        "created_at": "2024-01-01T00:00:01Z",
        "updated_at": "2024-01-01T00:00:01Z",
    }
    assert client.get("/books/1").json() == created
    patched = client.patch("/books/1", json={"status": "read"}).json()
    assert patched["status"] == "read"
    assert patched["updated_at"] == "2024-01-01T00:00:02Z"
    assert patched["created_at"] == created["created_at"]
    assert client.delete("/books/1").status_code == 204
    assert client.get("/books/1").status_code == 404
    assert client.delete("/books/1").status_code == 404


def test_shelf_crud_and_unique_name(client: TestClient) -> None:
    first = shelf(client, "Fiction")
    assert client.post("/shelves", json={"name": "Fiction"}).status_code == 409
    assert client.post("/shelves", json={"name": "fiction"}).status_code == 201  # case matters
    second = shelf(client, "Poetry")
    assert client.patch(f"/shelves/{second}", json={"name": "Fiction"}).status_code == 409
    renamed = client.patch(f"/shelves/{first}", json={"name": "Novels"})
    assert renamed.json()["name"] == "Novels"
    assert [s["name"] for s in client.get("/shelves").json()] == ["Novels", "fiction", "Poetry"]
    assert client.delete(f"/shelves/{second}").status_code == 204
    assert client.get(f"/shelves/{second}").status_code == 404


def test_title_unique_per_shelf(client: TestClient) -> None:
    a, b = shelf(client, "A"), shelf(client, "B")
    book(client, a, "Dune")
    book(client, b, "Dune")
    dup = client.post("/books", json={"shelf_id": a, "title": "Dune", "author": "Herbert"})
    assert dup.status_code == 409
    other = book(client, a, "Emma")
    assert client.patch(f"/books/{other['id']}", json={"title": "Dune"}).status_code == 409


def test_filters_and_search(client: TestClient) -> None:
    a, b = shelf(client, "A"), shelf(client, "B")
    book(client, a, "The Left Hand of Darkness")
    book(client, a, "Dune", author="Herbert", status="read")
    book(client, b, "Dune Messiah", author="Herbert")
    assert titles(client, shelf_id=a) == ["The Left Hand of Darkness", "Dune"]
    assert titles(client, author="Herbert") == ["Dune", "Dune Messiah"]
    assert titles(client, author="Herbert", status="read") == ["Dune"]
    assert titles(client, q="dune") == ["Dune", "Dune Messiah"]  # any case
    assert titles(client, q="DARK") == ["The Left Hand of Darkness"]
    assert client.get("/books", params={"status": "lost"}).status_code == 422


def test_search_is_literal(client: TestClient) -> None:
    a = shelf(client)
    book(client, a, "100% Pure")
    book(client, a, "1000 Pure")
    book(client, a, "C:\\Books")
    assert titles(client, q="0%") == ["100% Pure"]
    assert titles(client, q="_") == []
    assert titles(client, q="\\") == ["C:\\Books"]


def test_sort(client: TestClient) -> None:
    a = shelf(client)
    book(client, a, "B", year=1990)
    book(client, a, "A")
    book(client, a, "C", year=1980)
    book(client, a, "D", year=1990)
    assert titles(client, sort="title") == ["A", "B", "C", "D"]
    assert titles(client, sort="year") == ["C", "B", "D", "A"]  # no year: last; ties by id


def test_pagination(client: TestClient) -> None:
    a = shelf(client)
    for n in range(5):
        book(client, a, f"Book {n}")
    page = client.get("/books", params={"limit": 2, "offset": 2}).json()
    assert [i["title"] for i in page["items"]] == ["Book 2", "Book 3"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    assert titles(client, limit=2, offset=4) == ["Book 4"]
    for params in ({"limit": 0}, {"limit": -1}, {"limit": 101}, {"offset": -1}):
        assert client.get("/books", params=params).status_code == 422, params


def test_list_order_is_stable_after_updates(client: TestClient) -> None:
    a = shelf(client)
    first = book(client, a, "First")
    book(client, a, "Second")
    client.patch(f"/books/{first['id']}", json={"status": "reading"})
    assert titles(client) == ["First", "Second"]


def test_foreign_keys(client: TestClient) -> None:
    a = shelf(client)
    unknown = client.post("/books", json={"shelf_id": 99, "title": "T", "author": "A"})
    assert unknown.status_code == 404
    moved = book(client, a, "T")
    assert client.patch(f"/books/{moved['id']}", json={"shelf_id": 99}).status_code == 404
    assert client.delete(f"/shelves/{a}").status_code == 409
    client.delete(f"/books/{moved['id']}")
    assert client.delete(f"/shelves/{a}").status_code == 204


def test_ids_are_never_reused(client: TestClient) -> None:
    a = shelf(client)
    assert book(client, a, "One")["id"] == 1
    client.delete("/books/1")
    assert book(client, a, "Two")["id"] == 2


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x" * 201},
        {"title": ""},
        {"author": "x" * 201},
        {"title": "NUL \x00"},
        {"year": 2**31},
        {"year": -(2**40)},
    ],
)
def test_bounds(client: TestClient, body: dict[str, Any]) -> None:
    a = shelf(client)
    resp = client.post("/books", json={"shelf_id": a, "title": "T", "author": "A", **body})
    assert resp.status_code == 422
    assert client.post("/shelves", json={"name": "x" * 201}).status_code == 422


def test_ids_past_integer_are_not_found(client: TestClient) -> None:
    assert client.get("/books/2147483648").status_code == 404
    assert client.delete("/shelves/99999999999999999999").status_code == 404
    assert client.get("/books", params={"shelf_id": 2**31}).status_code == 422
    assert client.get("/books", params={"author": "\x00"}).status_code == 422


def test_patch_null_leaves_a_field_except_year(client: TestClient) -> None:
    created = book(client, shelf(client), "Dune", year=1965)
    patched = client.patch(f"/books/{created['id']}", json={"title": None, "year": None})
    assert (patched.json()["title"], patched.json()["year"]) == ("Dune", None)


def test_openapi_shows_the_bounds(make_client: MakeClient) -> None:
    def limit_schema(client: TestClient) -> dict[str, Any]:
        params = client.get("/openapi.json").json()["paths"]["/books"]["get"]["parameters"]
        schema: dict[str, Any] = next(p["schema"] for p in params if p["name"] == "limit")
        return schema

    assert limit_schema(make_client()) == {
        "type": "integer",
        "maximum": 100,
        "minimum": 1,
        "default": 20,
        "title": "Limit",
    }
    assert "minimum" not in limit_schema(make_client(naive={"bounds"}))


def test_unknown_fix_is_refused(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="unknown fixes"):
        create_app(f"sqlite:///{tmp_path}/x.db", naive={"orderr"})


# the naive app: what each fix changed, as SQLite shows it -------------------------------


def test_naive_timestamps_lose_their_offset(make_client: MakeClient) -> None:
    client = make_client(naive={"utc"})
    assert client.post("/shelves", json={"name": "A"}).json()["created_at"] == (
        "2024-01-01T00:00:00"
    )


def test_naive_foreign_keys_are_not_enforced(make_client: MakeClient) -> None:
    client = make_client(naive={"foreign_keys"})
    a = shelf(client)
    book(client, a, "Kept")
    assert book(client, 99, "Orphan")["shelf_id"] == 99
    assert client.delete(f"/shelves/{a}").status_code == 204
    assert titles(client) == ["Kept", "Orphan"]


def test_naive_ids_are_reused(make_client: MakeClient) -> None:
    client = make_client(naive={"ids"})
    a = shelf(client)
    book(client, a, "One")
    client.delete("/books/1")
    assert book(client, a, "Two")["id"] == 1


def test_naive_paging_reads_minus_one_as_no_limit(make_client: MakeClient) -> None:
    client = make_client(naive={"bounds"})
    a = shelf(client)
    for n in range(3):
        book(client, a, f"B{n}")
    assert titles(client, limit=-1) == ["B0", "B1", "B2"]
    assert titles(client, offset=-5) == ["B0", "B1", "B2"]


def test_naive_search_is_like(make_client: MakeClient) -> None:
    client = make_client(naive={"search"})
    a = shelf(client)
    book(client, a, "100% Pure")
    book(client, a, "1000 Pure")
    assert titles(client, q="0%") == ["100% Pure", "1000 Pure"]  # % is a wildcard
    assert titles(client, q="pure") == ["100% Pure", "1000 Pure"]  # ASCII case folded


def test_naive_sort_puts_null_years_first(make_client: MakeClient) -> None:
    client = make_client(naive={"nulls_last"})
    a = shelf(client)
    book(client, a, "Dated", year=2000)
    book(client, a, "Undated")
    assert titles(client, sort="year") == ["Undated", "Dated"]


def test_naive_bounds_store_what_sqlite_takes(make_client: MakeClient) -> None:
    client = make_client(naive={"bounds"})
    a = shelf(client)
    assert book(client, a, "x" * 500, year=2**40)["year"] == 2**40
    assert book(client, a, "NUL \x00")["title"] == "NUL \x00"


def test_naive_everything(make_client: MakeClient) -> None:
    client = make_client(naive=True)
    assert client.app.state.settings.fixes == frozenset()  # type: ignore[attr-defined]
    assert make_client().app.state.settings.fixes == FIXES  # type: ignore[attr-defined]
