"""``[tool.parity.diff]``: parsing, errors, round trip, and integer ids end to end."""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import parity.diff
import parity.diff.normalize
from parity.diff import DiffConfigError, DiffOptions, Normalizer, compare
from parity.diff.options import IGNORED
from parity.lockstep.divergence import Divergence
from parity.lockstep.driver import LockstepDriver
from parity.targets.base import Response

WHERE = "pyproject.toml [tool.parity.diff]"


def _error(table: Mapping[str, Any]) -> str:
    with pytest.raises(DiffConfigError) as info:
        DiffOptions.from_table(table, WHERE)
    message = str(info.value)
    assert message.startswith(f"{WHERE}: ") and "\n" not in message
    return message


# parsing ----------------------------------------------------------------------------


def test_an_empty_table_is_todays_defaults() -> None:
    options = DiffOptions.from_table({}, WHERE)
    assert options == DiffOptions()
    assert options.ids == ("prefixed-ulid", "uuid")
    assert options.id_keys == ("id", "*_id")
    assert options.headers == ("content-type", "etag", "idempotent-replayed", "location")
    assert options.cursor_keys == ("next_cursor", "cursor", "prev_cursor")
    assert options.token_keys == ("access_token", "token", "refresh_token")
    assert options.ignore_paths == options.unordered_paths == ()
    assert options.timestamps == "ref"


def test_every_key_is_read() -> None:
    table = {
        "ids": ["integer", "uuid", r"re:\bord-\d+\b"],
        "id_keys": ["pk", "*_pk"],
        "ignore": ["body.items[*].updated_at", "headers.Date", "status"],
        "unordered": ["body.items", "body.tags[0]"],
        "headers": ["Content-Type", "x-total"],
        "cursor_keys": ["after"],
        "token_keys": ["jwt"],
        "timestamps": "canonical",
    }
    options = DiffOptions.from_table(table, WHERE)
    assert options.ids == ("integer", "uuid", r"re:\bord-\d+\b")
    assert options.id_keys == ("pk", "*_pk")
    assert options.ignore_paths == ("body.items[*].updated_at", "headers.date", "status")
    assert options.unordered_paths == ("body.items", "body.tags[0]")
    assert options.headers == ("content-type", "x-total")  # header names are lower-case
    assert (options.cursor_keys, options.token_keys) == (("after",), ("jwt",))
    assert options.timestamps == "canonical"


@pytest.mark.parametrize(
    "options",
    [
        DiffOptions(),
        DiffOptions(
            ids=("integer", r"re:(?i:\bx-[0-9a-f]{6}\b)"),
            id_keys=("id",),
            ignore_paths=("body.*.etag", "headers.date"),
            unordered_paths=("body",),
            headers=(),
            timestamps="canonical",
        ),
    ],
)
def test_to_dict_round_trips_through_from_table(options: DiffOptions) -> None:
    recorded = json.loads(json.dumps(options.to_dict()))  # as a trace stores it
    assert set(recorded) == {
        "ids",
        "id_keys",
        "ignore",
        "unordered",
        "headers",
        "cursor_keys",
        "token_keys",
        "timestamps",
    }
    again = DiffOptions.from_table(recorded, WHERE)
    assert again == options and hash(again) == hash(options)
    assert again.to_dict() == recorded


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"ignore_paths": []}, "unknown key 'ignore_paths'; did you mean 'ignore'?"),
        ({"id": []}, "unknown key 'id'; did you mean 'ids'?"),
        ({"ids": ["uuid4"]}, "ids[0] = 'uuid4': unknown id pattern; did you mean 'uuid'?"),
        (
            {"ids": ["uuid", "prefixed_ulid"]},
            "ids[1] = 'prefixed_ulid': unknown id pattern; did you mean 'prefixed-ulid'?",
        ),
        ({"ids": ["regex:x+"]}, "write custom patterns as 're:<regex>'"),
        ({"ids": "uuid"}, "ids: expected a list of strings"),
        ({"ids": ["re:("]}, "ids[0] = 're:(': not a regex"),
        ({"ids": [r"re:\d*"]}, "matches the empty string"),
        ({"ids": ["re:(?i)x"]}, "scope flags to a group"),
        ({"headers": [1]}, "headers[0] = 1: expected a non-empty string"),
        ({"timestamps": "canonicl"}, "timestamps = 'canonicl': did you mean 'canonical'?"),
        ({"timestamps": 1}, "timestamps = 1: expected"),
        ({"ignore": ["items[*].x"]}, "did you mean 'body.items[*].x'?"),
        ({"ignore": ["bdy.x"]}, "did you mean 'body'?"),
        ({"ignore": ["body.items[x]"]}, "expected .key, .*, [n] or [*] at '[x]'"),
        ({"ignore": ["status.code"]}, "status has nothing inside it"),
        ({"unordered": ["headers.vary"]}, "only lists under 'body' can be unordered"),
        ({"unordered": ["items"]}, "a path starts with 'body'; did you mean 'body.items'?"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(table: Mapping[str, Any], expected: str) -> None:
    assert expected in _error(table)


def test_bad_table_and_direct_construction_raise_diff_config_error() -> None:
    assert "expected a table" in _error(["ids"])  # type: ignore[arg-type]
    with pytest.raises(DiffConfigError, match=r"DiffOptions.ids\[0\] = 'guid'"):
        DiffOptions(ids=("guid",))
    assert issubclass(DiffConfigError, ValueError)


def test_old_imports_and_pickling_keep_working() -> None:
    assert parity.diff.normalize.DiffOptions is DiffOptions is parity.diff.DiffOptions
    options = DiffOptions(ids=("integer",), ignore_paths=("body.x",))
    again = pickle.loads(pickle.dumps(options))
    assert again == options
    assert Normalizer(again).value({"id": 4}) == {"id": "<id:1>"}


# compare's ignore -------------------------------------------------------------------


def test_compare_ignores_wildcard_paths_and_exact_old_ones() -> None:
    expected = {"body": {"items": [{"t": 1, "v": 1}, {"t": 2, "v": 2}], "m": {"a": 1}}}
    actual = {"body": {"items": [{"t": 9, "v": 1}, {"v": 3}], "m": {"a": 2}}}
    paths = [d.path for d in compare(expected, actual, ignore=("body.items[*].t",))]
    assert paths == ["body.items[1].v", "body.m.a"]
    assert [d.path for d in compare(expected, actual, ignore=("body.items[1]", "body.*.a"))] == [
        "body.items[0].t"
    ]
    assert compare(expected, actual, ignore=("body",)) == []


# the hot path -----------------------------------------------------------------------


def test_normalising_compiles_no_regex_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    options = DiffOptions(
        ids=("prefixed-ulid", "uuid", "integer", r"re:\bord-\d+\b"),
        ignore_paths=("body.items[*].at",),
        unordered_paths=("body.items",),
    )
    norm = Normalizer(options)
    assert norm.options.compiled is Normalizer(options).options.compiled
    body = {"items": [{"id": 2, "at": 1}, {"id": 1, "at": 2}], "next_cursor": "abc"}
    resp = Response(
        200, {"content-type": "application/json", "location": "/n/1"}, json.dumps(body).encode()
    )
    norm.value(body)  # the cursor is registered (its pattern compiled once, here)
    calls: list[str] = []

    def counting(pattern: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(str(pattern))
        raise AssertionError(f"regex {pattern!r} compiled on the hot path")

    # undone before the test returns: pytest's own reporting (--junitxml) uses re
    with monkeypatch.context() as patched:
        for name in ("compile", "sub", "match", "fullmatch", "search"):
            patched.setattr(re, name, counting)
        for _ in range(3):
            norm.response(resp)
            norm.text("/n/1?cursor=abc at 2026-01-01T00:00:00Z ord-12")
    assert calls == []


# end to end: integer ids through a lockstep driver ----------------------------------


class NotesTarget:
    """An in-memory notes API with integer ids: ``start`` is the first id; ``reuse``
    numbers like SQLite (max + 1, so a deleted highest id comes back), otherwise like a
    PostgreSQL sequence. ``reverse`` lists without ORDER BY (newest first)."""

    blocking_io = False

    def __init__(self, name: str, start: int, reuse: bool, reverse: bool = False) -> None:
        self.name, self.start, self.reuse, self.reverse = name, start, reuse, reverse
        self.notes: dict[int, dict[str, Any]] = {}
        self.next = start

    def _new_id(self) -> int:
        if self.reuse:
            return max(self.notes, default=self.start - 1) + 1
        self.next += 1
        return self.next - 1

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        body: bytes | None = None,
    ) -> Response:
        parts = path.split("?", 1)[0].strip("/").split("/")
        if method == "POST" and parts == ["notes"]:
            parent = json.get("parent_id")
            if parent is not None and (type(parent) is not int or parent not in self.notes):
                return _answer(422, {"detail": "bad parent_id"})
            ident = self._new_id()
            self.notes[ident] = {"id": ident, "title": json["title"], "parent_id": parent}
            return _answer(201, self.notes[ident], location=f"/notes/{ident}")
        if method == "GET" and parts == ["notes"]:
            items = sorted(self.notes.values(), key=lambda n: n["id"], reverse=self.reverse)
            return _answer(200, {"items": items, "count": len(items)})
        if len(parts) == 2 and parts[1].isdigit():
            note = self.notes.get(int(parts[1]))
            if note is None:
                return _answer(404, {"detail": "no such note"})
            if method == "DELETE":
                del self.notes[note["id"]]
                return Response(204, {}, b"")
            return _answer(200, note)
        return _answer(405, {"detail": "no"})

    def close(self) -> None:
        pass


def _answer(status: int, body: Any, **headers: str) -> Response:
    return Response(
        status, {"content-type": "application/json", **headers}, json.dumps(body).encode()
    )


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as pool:
        yield pool


NOTES = DiffOptions.from_table({"ids": ["integer"], "unordered": ["body.items"]}, WHERE)


def test_integer_ids_from_1_and_from_1000_with_reuse_are_in_parity(
    executor: ThreadPoolExecutor,
) -> None:
    targets = {
        "sqlite": NotesTarget("sqlite", start=1, reuse=True),
        "pg": NotesTarget("pg", start=1000, reuse=False, reverse=True),
    }
    driver = LockstepDriver(targets, "sqlite", executor, NOTES)
    first = driver.call("POST", "/notes", json={"title": "a", "parent_id": None})
    assert first.json()["id"] == 1
    # the scenario writes the reference's raw int; each backend gets its own int
    child = driver.call("POST", "/notes", json={"title": "b", "parent_id": 1})
    assert child.status == 201 and child.json()["id"] == 2
    assert targets["pg"].notes[1001]["parent_id"] == 1000
    assert driver.call("DELETE", "/notes/2").status == 204
    again = driver.call("POST", "/notes", json={"title": "c", "parent_id": 1})
    assert again.json()["id"] == 2 and 1002 in targets["pg"].notes  # re-used vs fresh
    assert driver.call("GET", "/notes").json()["count"] == 2
    assert driver.call("GET", "/notes/2").json()["title"] == "c"
    assert driver.call("GET", "/notes/7").status == 404
    assert driver.steps[-2].request.path == "/notes/<id:3>"
    assert driver.steps[-3].responses["pg"]["normalized"]["body"]["items"][1] == {
        "id": "<id:3>",
        "title": "c",
        "parent_id": "<id:1>",
    }


def test_a_real_integer_id_difference_is_still_found(executor: ThreadPoolExecutor) -> None:
    targets = {
        "sqlite": NotesTarget("sqlite", start=1, reuse=True),
        "pg": NotesTarget("pg", start=1000, reuse=False),
    }
    driver = LockstepDriver(targets, "sqlite", executor, NOTES)
    driver.call("POST", "/notes", json={"title": "a", "parent_id": None})
    driver.call("POST", "/notes", json={"title": "b", "parent_id": None})
    targets["pg"].notes[1001]["parent_id"] = 1000  # pg's b points at a, sqlite's at nothing
    with pytest.raises(Divergence) as info:
        driver.call("GET", "/notes/2")
    assert "body.parent_id: sqlite=null  pg=<id:1>" in str(info.value)


def test_ignored_marker_is_exported() -> None:
    assert IGNORED == "<ignored>"
    assert "DiffConfigError" in parity.diff.__all__
