from __future__ import annotations

from parity.diff import DiffOptions, Normalizer, compare
from parity.targets.base import Response

ID1 = "card_01KDVDNA00C42657VFQVC2R1YG"
ID2 = "card_01KDVDNA00C42657VFQVC2R1YH"


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
