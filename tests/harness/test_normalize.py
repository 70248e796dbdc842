from __future__ import annotations

import json

from parity.diff import DiffOptions, Normalizer, compare
from parity.targets.base import Response

ID1 = "card_01KDVDNA00C42657VFQVC2R1YG"
ID2 = "card_01KDVDNA00C42657VFQVC2R1YH"
OTHER_A = "card_01KDVDNA00C42657VFQVC2R1ZA"
OTHER_B = "card_01KDVDNA00C42657VFQVC2R1ZB"


def _resp(body: bytes, **headers: str) -> Response:
    return Response(200, {"content-type": "application/json; charset=utf-8", **headers}, body)


def test_ids_map_to_references_in_order_of_first_appearance() -> None:
    norm = Normalizer()
    out = norm.value({"id": ID2, "other": ID1, "again": ID2, "link": f"/v1/cards/{ID1}/x"})
    assert out == {
        "id": "<id:1>",
        "other": "<id:2>",
        "again": "<id:1>",
        "link": "/v1/cards/<id:2>/x",
    }


def test_two_backends_with_different_raw_ids_normalise_equal() -> None:
    a, b = Normalizer(), Normalizer()
    left = a.response(_resp(f'{{"id": "{ID1}", "n": 1}}'.encode()))
    right = b.response(_resp(f'{{"id": "{ID2}", "n": 1}}'.encode()))
    assert compare(left, right) == []


def test_cursor_is_a_reference_and_is_translated_when_followed() -> None:
    ref, other = Normalizer(), Normalizer()
    ref.value({"next_cursor": "AAAAcursor-ref"})
    other.value({"next_cursor": "BBBBcursor-other"})
    request = ref.request("GET", "/items?cursor=AAAAcursor-ref&limit=2")
    assert request.path == "/items?cursor=<cursor:1>&limit=2"
    _, path, _, _ = other.raw_request(request, fallback=ref)
    assert path == "/items?cursor=BBBBcursor-other&limit=2"


def test_unknown_reference_falls_back_to_the_reference_value() -> None:
    ref, other = Normalizer(), Normalizer()
    request = ref.request("GET", f"/v1/cards/{ID1}")
    _, path, _, _ = other.raw_request(request, fallback=ref)
    assert path == f"/v1/cards/{ID1}"
    assert other.value({"id": ID1}) == {"id": "<id:1>"}


def test_timestamps_in_any_spelling_of_one_instant_are_equal() -> None:
    a, b = Normalizer(), Normalizer()
    assert a.text("2026-01-01T00:00:00Z") == b.text("2026-01-01T00:00:00.000000+00:00")
    canonical = Normalizer(DiffOptions(timestamps="canonical"))
    assert canonical.text("2026-01-01T01:00:00+01:00") == "2026-01-01T00:00:00.000000Z"


def test_only_meaningful_headers_are_compared() -> None:
    norm = Normalizer()
    out = norm.response(_resp(b"{}", etag='"3"', date="Mon", **{"x-request-id": "abc"}))
    assert out["headers"] == {"content-type": "application/json", "etag": '"3"'}


def test_hash_etags_become_references_but_version_etags_stay() -> None:
    norm = Normalizer()
    assert norm.header("etag", '"9f86d081884c7d659a2feaa0c55ad015"') == "<etag:1>"
    assert norm.header("etag", 'W/"4"') == 'W/"4"'


def test_location_absolute_and_relative_compare_equal() -> None:
    a, b = Normalizer(), Normalizer()
    assert a.header("location", f"http://x:8000/v1/cards/{ID1}") == b.header(
        "location", f"/v1/cards/{ID2}"
    )


def test_non_json_bodies_are_compared_as_normalised_text() -> None:
    norm = Normalizer()
    out = norm.response(Response(500, {"content-type": "text/plain"}, f"boom {ID1}".encode()))
    assert out["body"] == "boom <id:1>"


# configurable normalisation: integer ids --------------------------------------------

INTS = DiffOptions(ids=("integer",))


def _json(body: object, status: int = 200, **headers: str) -> Response:
    return Response(
        status, {"content-type": "application/json", **headers}, json.dumps(body).encode()
    )


def test_integer_ids_counted_from_different_starts_compare_equal() -> None:
    a, b = Normalizer(INTS), Normalizer(INTS)
    for raw_a, raw_b in ((1, 1000), (2, 1001)):
        left = a.response(_json({"id": raw_a, "owner_id": 7}, 201, location=f"/notes/{raw_a}"))
        right = b.response(
            _json({"id": raw_b, "owner_id": 70}, 201, location=f"http://b:1/notes/{raw_b}")
        )
        assert compare(left, right) == []
    assert left["body"] == {"id": "<id:3>", "owner_id": "<id:2>"}
    assert left["headers"]["location"] == "/notes/<id:3>"


def test_integers_outside_id_keys_are_values_not_ids() -> None:
    a, b = Normalizer(INTS), Normalizer(INTS)
    a.value({"id": 1})
    b.value({"id": 1000})
    # an amount equal to an id stays an amount, on both sides, in JSON and in text
    assert a.value({"amount": 1, "count": 1, "n": [1], "ok": True}) == {
        "amount": 1,
        "count": 1,
        "n": [1],
        "ok": True,
    }
    assert a.value({"detail": "1 note", "page": "/pages/2"}) == {
        "detail": "1 note",
        "page": "/pages/2",
    }
    assert b.value({"id": True}) == {"id": True}


def test_integer_reference_goes_back_as_each_backends_own_int_in_body_and_path() -> None:
    ref, other = Normalizer(INTS), Normalizer(INTS)
    ref.value({"id": 3})
    other.value({"id": 1003})
    request = ref.request("PATCH", "/notes/3/tags?note_id=3&limit=3", json={"parent_id": 3})
    assert request.path == "/notes/<id:1>/tags?note_id=<id:1>&limit=3"
    assert request.json == {"parent_id": "<id:1>"}
    method, path, _, body = other.raw_request(request, fallback=ref)
    assert (method, path) == ("PATCH", "/notes/1003/tags?note_id=1003&limit=3")
    assert body == {"parent_id": 1003} and type(body["parent_id"]) is int
    assert ref.raw_request(request)[3] == {"parent_id": 3}


def test_unseen_integer_in_a_path_stays_and_a_made_up_one_keeps_its_type() -> None:
    ref, other = Normalizer(INTS), Normalizer(INTS)
    request = ref.request("POST", "/notes/7", json={"parent_id": 99})
    assert request.path == "/notes/7"  # never shown as an id: maybe not one
    _, path, _, body = other.raw_request(request, fallback=ref)
    assert path == "/notes/7"
    assert body == {"parent_id": 99} and type(body["parent_id"]) is int


def test_digit_string_ids_stay_strings() -> None:
    ref, other = Normalizer(INTS), Normalizer(INTS)
    ref.value({"data": {"type": "notes", "id": "3"}})
    other.value({"data": {"type": "notes", "id": "1003"}})
    request = ref.request("POST", "/x", json={"note_id": "3"})
    assert other.raw_request(request, fallback=ref)[3] == {"note_id": "1003"}


def test_id_reuse_after_delete_compares_equal() -> None:
    """SQLite hands a deleted highest row number to the next insert; PostgreSQL never."""
    sqlite, pg = Normalizer(INTS), Normalizer(INTS)
    assert sqlite.value({"id": 1}) == pg.value({"id": 1000}) == {"id": "<id:1>"}
    sqlite.value({"id": 2})
    pg.value({"id": 1001})
    delete = sqlite.request("DELETE", "/notes/2")
    assert sqlite.raw_request(delete)[1] == "/notes/2"
    assert pg.raw_request(delete, fallback=sqlite)[1] == "/notes/1001"
    created_s, created_p = sqlite.value({"id": 2}), pg.value({"id": 1002})
    assert created_s == created_p == {"id": "<id:3>"}
    assert sqlite.value([{"id": 1}, {"id": 2}]) == pg.value([{"id": 1000}, {"id": 1002}])
    # the scenario's raw 2 now means the new note on every backend
    get = sqlite.request("GET", "/notes/2")
    assert get.path == "/notes/<id:3>"
    assert pg.raw_request(get, fallback=sqlite)[1] == "/notes/1002"


def test_id_keys_are_configurable_globs() -> None:
    norm = Normalizer(DiffOptions(ids=("integer",), id_keys=("pk", "*_ids")))
    assert norm.value({"pk": 5, "tag_ids": [5, 6], "id": 5, "owner_id": 6}) == {
        "pk": "<id:1>",
        "tag_ids": ["<id:1>", "<id:2>"],
        "id": 5,
        "owner_id": 6,
    }


# configurable normalisation: text presets -------------------------------------------

UUID_A = "0F8FAD5B-D9CB-469F-A165-70867728950E"
ULID_A = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def test_presets_choose_what_text_is_an_id() -> None:
    ulid = Normalizer(DiffOptions(ids=("ulid",)))
    assert ulid.text(f"/v1/x/{ULID_A} and {ID1}") == f"/v1/x/<id:1> and {ID1}"
    uuid = Normalizer(DiffOptions(ids=("uuid",)))
    assert uuid.text(f"{UUID_A.lower()} {UUID_A}") == "<id:1> <id:2>"
    assert Normalizer(DiffOptions(ids=())).text(f"{ID1} {UUID_A}") == f"{ID1} {UUID_A}"
    # today's default is unchanged: prefixed ULIDs and UUIDs, bare ULIDs are not ids
    default = Normalizer()
    assert default.text(f"{ID1} {ULID_A} {UUID_A}") == f"<id:1> {ULID_A} <id:2>"


def test_custom_regex_ids_never_rewrite_references() -> None:
    norm = Normalizer(DiffOptions(ids=(r"re:\bord-\d{4}\b", r"re:\d+")))
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    assert norm.text(f"ord-1234 then 77, {jwt}") == "<id:1> then <id:2>, <token:1>"
    assert norm.text("ord-1234 <id:2>") == "<id:1> <id:2>"


# configurable normalisation: ignored and unordered paths ----------------------------


def test_ignored_paths_are_marked_and_never_compared() -> None:
    options = DiffOptions(ignore_paths=("body.items[*].updated_at", "headers.etag", "body.x"))
    a, b = Normalizer(options), Normalizer(options)
    left = a.response(
        _json(
            {"items": [{"v": 1, "updated_at": "2026-01-01T00:00:00Z"}], "x": 1},
            etag='"1"',
        )
    )
    right = b.response(_json({"items": [{"v": 1, "updated_at": None}]}, etag='"2"'))
    assert left["body"] == {"items": [{"v": 1, "updated_at": "<ignored>"}], "x": "<ignored>"}
    assert left["headers"]["etag"] == right["headers"]["etag"] == "<ignored>"
    assert compare(left, right, ignore=options.ignore_paths) == []
    assert compare(left, right) != []  # the marker is in the form; compare skips the path
    # an ignored timestamp does not take a reference number: the next one agrees
    assert a.text("2026-02-02T00:00:00Z") == b.text("2026-03-03T00:00:00Z") == "<ts:1>"


def test_unordered_lists_compare_as_multisets() -> None:
    options = DiffOptions(unordered_paths=("body.tags", "body.items"))
    a, b = Normalizer(options), Normalizer(options)
    left = a.response(_json({"tags": ["x", "y", "y"], "order": [1, 2]}))
    right = b.response(_json({"tags": ["y", "x", "y"], "order": [1, 2]}))
    assert compare(left, right) == []
    assert (
        compare(
            a.response(_json({"tags": ["x", "y", "y"]})),
            b.response(_json({"tags": ["x", "x", "y"]})),
        )
        != []
    )
    assert compare(a.response(_json({"order": [1, 2]})), b.response(_json({"order": [2, 1]})))


def test_references_first_seen_in_an_unordered_list_do_not_depend_on_its_order() -> None:
    options = DiffOptions(unordered_paths=("body.items",))
    ref, other = Normalizer(options), Normalizer(options)
    left = ref.response(_json({"items": [{"id": ID1, "name": "a"}, {"id": ID2, "name": "b"}]}))
    right = other.response(
        _json({"items": [{"id": OTHER_B, "name": "b"}, {"id": OTHER_A, "name": "a"}]})
    )
    assert compare(left, right) == []
    # and "get a" reaches a on the other backend too
    _, path, _, _ = other.raw_request(ref.request("GET", f"/v1/cards/{ID1}"), fallback=ref)
    assert path == f"/v1/cards/{OTHER_A}"


def test_unordered_lists_of_known_ids_and_nested_ignores() -> None:
    options = DiffOptions(unordered_paths=("body",), ignore_paths=("body[*].at",))
    ref, other = Normalizer(options), Normalizer(options)
    ref.value([ID1, ID2])
    other.value([OTHER_A, OTHER_B])
    left = ref.response(_json([{"id": ID2, "at": 1}, {"id": ID1, "at": 2}]))
    right = other.response(_json([{"id": OTHER_A, "at": 3}, {"id": OTHER_B, "at": 4}]))
    assert left == right
    assert left["body"] == [
        {"at": "<ignored>", "id": "<id:1>"},
        {"at": "<ignored>", "id": "<id:2>"},
    ]


def test_integer_ids_count_per_table() -> None:
    """A failed insert consumes a PostgreSQL sequence value and not a SQLite row number:
    shelf B is 2 on one, 3 on the other, and book 2 must still be the same book."""

    def answer(body: dict[str, object]) -> Response:
        return Response(201, {"content-type": "application/json"}, json.dumps(body).encode())

    sqlite, pg = Normalizer(INTS), Normalizer(INTS)
    calls = [
        ("/shelves", {"id": 1, "name": "A"}, {"id": 1, "name": "A"}),
        ("/shelves", {"id": 2, "name": "B"}, {"id": 3, "name": "B"}),
        ("/books", {"id": 1, "shelf_id": 1}, {"id": 1, "shelf_id": 1}),
        ("/books", {"id": 2, "shelf_id": 2}, {"id": 2, "shelf_id": 3}),
        (
            "/books/2",
            {"id": 2, "shelf": {"id": 2, "name": "B"}},
            {"id": 2, "shelf": {"id": 3, "name": "B"}},
        ),
    ]
    for path, mine, theirs in calls:
        assert sqlite.response(answer(mine), path) == pg.response(answer(theirs), path), path
    # the scenario's raw "shelf 2" and "book 2" reach each backend's own rows
    request = sqlite.request("PATCH", "/books/2", json={"shelf_id": 2})
    _, path, _, body = pg.raw_request(request, fallback=sqlite)
    assert (path, body) == ("/books/2", {"shelf_id": 3})
    assert pg.raw_request(sqlite.request("GET", "/shelves/2"), fallback=sqlite)[1] == "/shelves/3"
