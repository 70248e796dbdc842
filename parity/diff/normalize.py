"""Volatile values → stable references, per backend, and back.

Each backend in a lockstep example has its own :class:`Normalizer`. The first id a
backend ever returns becomes ``<id:1>``, the second new one ``<id:2>``, and so on, so two
backends that create the same things in the same order agree on references even if their
raw ids differ. A request is written once in the reference backend's raw values,
normalised to references, then *denormalised* with each backend's own mapping: that is
how "follow this cursor" or "get this card" reaches the right object on every backend
(cursors are compared by following them, never by value).

What counts as an id, which paths are ignored or unordered, which headers are compared:
:class:`~parity.diff.options.DiffOptions` (``[tool.parity.diff]``), documented in
:mod:`parity.diff.options`.
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from parity.diff.options import ID_PRESETS, IGNORED, DiffConfigError, DiffOptions, PathNode
from parity.targets.base import Response

__all__ = [
    "ID_RE",
    "IGNORED",
    "REF_RE",
    "DiffConfigError",
    "DiffOptions",
    "NormalizedRequest",
    "Normalizer",
]

REF_RE = re.compile(r"<(id|cursor|token|ts|etag):(\d+)>")
#: the default id pattern (presets "prefixed-ulid" and "uuid"), kept for importers;
#: a Normalizer uses ``options.compiled.id_re``
ID_RE = re.compile("|".join(f"(?:{ID_PRESETS[name]})" for name in DiffOptions().ids))
JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
TS_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})\b")
HASHY_RE = re.compile(r'^(W/)?"?[0-9A-Za-z+/=_-]{16,}"?$')
ORIGIN_RE = re.compile(r"^https?://[^/]+")
#: a whole integer path segment (``/notes/3``, ``/notes/3/tags``, ``/notes/3?x=1``)
PATH_INT_RE = re.compile(r"(?<=/)\d+(?=[/?#]|$)")
#: a query parameter with an integer value (``?note_id=3``)
QUERY_INT_RE = re.compile(r"(?<=[?&])([^=&#/]+)=(\d+)(?=[&#]|$)")


#: JSON keys that hold a list of the request's own resources, not a resource of their own
GENERIC_KEYS = frozenset({"items", "data", "results", "records", "rows", "content", "entries"})


def scope_of(word: str | None) -> str | None:
    """The table an integer id belongs to, from a path segment or a JSON key: ``shelves``,
    ``shelf``, ``shelf_id`` and ``shelfId`` are all ``shelf``. Why: row numbers count per
    table, so ``book 2`` and ``shelf 2`` are different objects, and a backend whose
    sequences moved differently (a failed insert still consumes a PostgreSQL sequence
    value; SQLite re-uses it) numbers them differently. English plurals are folded by a
    heuristic (``-ies``, ``-ves``, ``-ses``/``-xes``, ``-s``); both spellings of a table
    only need to fold to the same word."""
    if not word or word[:1] == "<" or word.isdigit():
        return None
    w = word.lower()
    for suffix in ("_id", "-id", "id"):
        if w.endswith(suffix) and len(w) > len(suffix):
            w = w[: -len(suffix)].rstrip("_-")
            break
    if w.endswith("ies"):
        return w[:-3] + "y"
    if w.endswith("ves"):
        return w[:-3] + "f"
    if w.endswith(("ses", "xes", "zes", "ches", "shes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w or None


def collection_of(path: str | None) -> str | None:
    """The table a request is about: its last path segment that is not an id."""
    if not path:
        return None
    for segment in reversed(path.split("?", 1)[0].split("#", 1)[0].strip("/").split("/")):
        found = scope_of(segment)
        if found is not None:
            return found
    return None


def _canon(value: Any) -> str:
    """One spelling per JSON value: what unordered lists are sorted by."""
    return jsonlib.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class NormalizedRequest:
    """A request written with stable references: what traces store and replays send."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.json is not None:
            out["json"] = self.json
        if self.label:
            out["label"] = self.label
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NormalizedRequest:
        return cls(
            method=str(data["method"]),
            path=str(data["path"]),
            headers=dict(data.get("headers") or {}),
            json=data.get("json"),
            label=str(data.get("label", "")),
        )

    def line(self) -> str:
        return f"{self.method} {self.path}"


def _canonical_ts(text: str) -> str:
    """One spelling per instant: UTC, microseconds, ``Z``."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return text
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Normalizer:
    """One backend's mapping between raw volatile values and stable references."""

    def __init__(self, options: DiffOptions | None = None) -> None:
        self.options = options or DiffOptions()
        self._c = self.options.compiled
        self._to_ref: dict[tuple[str, str], str] = {}
        self._to_raw: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        #: opaque values (cursors, tokens) seen whole; replaced wherever they reappear,
        #: e.g. a cursor inside a query string or a token in an Authorization header
        #: (raw -> (reference, its whole-token pattern, compiled once))
        self._opaque: dict[str, tuple[str, re.Pattern[str]]] = {}
        #: id references whose raw value was a JSON integer: they go back as integers
        self._int_refs: set[str] = set()
        #: integer id reference -> the table it counts in (see :func:`scope_of`)
        self._scopes: dict[str, str | None] = {}
        #: tables known to hold objects (their own ``id`` values were seen)
        self._tables: set[str] = set()
        #: digits -> every integer id reference with that raw value, in any table
        self._by_digits: dict[str, list[str]] = {}
        #: the table the current object belongs to while a body is walked
        self._table: str | None = None
        #: > 0 while sorting an unordered list: new values are masked, not numbered
        self._peeking = 0
        self._peek_misses = 0

    # the mapping ----------------------------------------------------------------------

    def ref(self, kind: str, raw: str) -> str:
        key = (kind, _canonical_ts(raw) if kind == "ts" else raw)
        found = self._to_ref.get(key)
        if found is None:
            if self._peeking:
                self._peek_misses += 1
                return f"<{kind}:?>"
            n = self._counters.get(kind, 0) + 1
            self._counters[kind] = n
            found = f"<{kind}:{n}>"
            self._to_ref[key] = found
            self._to_raw[found] = raw
            if kind in ("cursor", "token"):
                # whole tokens only: a short cursor must not match inside another word
                pattern = re.compile(rf"(?<![A-Za-z0-9_.-]){re.escape(raw)}(?![A-Za-z0-9_.=-])")
                self._opaque[raw] = (found, pattern)
        return found

    def int_ref(self, digits: str, table: str | None, *, own: bool = False) -> str:
        """The reference of an integer id in ``table`` (ids count per table); ``own``:
        the object's own ``id``, which makes ``table`` a known table."""
        found = self.ref("id", f"{table}#{digits}" if table else digits)
        if found[-2] != "?":
            self._to_raw[found] = digits
            if found not in self._scopes:
                self._scopes[found] = table
                self._by_digits.setdefault(digits, []).append(found)
            if own and table:
                self._tables.add(table)
        return found

    def _int_id(self, digits: str, key: str) -> str:
        """An integer under JSON key ``key``: ``id`` is the current object's own (its
        table is the object's); ``shelf_id`` points into the ``shelf`` table when that is a
        known table; a key naming no known table (``parent_id``, ``owner_id``) means the
        one object with that number, else one of the current table."""
        table = None if key.lower() == "id" else scope_of(key)
        if table is None:
            return self.int_ref(digits, self._table, own=True)
        if table in self._tables:
            return self.int_ref(digits, table)
        return self._by_number(digits) or self.int_ref(digits, self._table or table)

    def _by_number(self, digits: str) -> str | None:
        """The reference of the one live integer id with this value, if exactly one."""
        found = [r for r in self._by_digits.get(digits, ()) if self._is_live(r, digits)]
        return found[0] if len(found) == 1 else None

    def _is_live(self, ref: str, digits: str) -> bool:
        table = self._scopes.get(ref)
        return self._to_ref.get(("id", f"{table}#{digits}" if table else digits)) == ref

    def bind(self, ref: str, raw: str | int, table: str | None = None, known: bool = False) -> None:
        """Adopt ``raw`` as this backend's value for ``ref`` (a value no response of this
        backend has shown yet, e.g. an id the scenario made up for a 404 probe). An int
        ``raw`` is an integer id of ``table``: it goes back into JSON bodies as an int."""
        kind = ref[1:].split(":", 1)[0]
        key = _canonical_ts(str(raw)) if kind == "ts" else str(raw)  # as :meth:`ref` keys it
        if isinstance(raw, int):
            raw = key = str(raw)
            self._int_refs.add(ref)
            if ref not in self._scopes:
                self._scopes[ref] = table
                self._by_digits.setdefault(raw, []).append(ref)
            if table:
                key = f"{table}#{raw}"
                if known:
                    self._tables.add(table)
        self._to_ref.setdefault((kind, key), ref)
        self._to_raw.setdefault(ref, raw)
        n = int(ref[1:-1].split(":", 1)[1])
        self._counters[kind] = max(self._counters.get(kind, 0), n)

    def raw(self, ref: str) -> str | None:
        """This backend's raw value for ``ref`` as text (what goes into a path)."""
        return self._to_raw.get(ref)

    def raw_value(self, ref: str) -> str | int | None:
        """This backend's raw value for ``ref`` with its JSON type (integer ids are ints)."""
        raw = self._to_raw.get(ref)
        return int(raw) if raw is not None and ref in self._int_refs else raw

    # raw → references -----------------------------------------------------------------

    def text(self, value: str) -> str:
        """Replace every volatile value inside free text (paths, messages, headers)."""
        for raw, (ref, pattern) in self._opaque.items():
            if raw in value:
                value = pattern.sub(ref, value)
        value = JWT_RE.sub(self._token_sub, value)
        c = self._c
        if c.id_re is not None:
            value = c.id_re.sub(self._id_sub, value)
        if c.integer and (value[:1] == "/" or value.startswith(("http://", "https://"))):
            value = self._url_ints(value)
        if c.canonical_ts:
            return TS_RE.sub(_canonical_ts_match, value)
        return TS_RE.sub(self._ts_sub, value)

    def _token_sub(self, match: re.Match[str]) -> str:
        return self.ref("token", match.group(0))

    def _ts_sub(self, match: re.Match[str]) -> str:
        return self.ref("ts", match.group(0))

    def _id_sub(self, match: re.Match[str]) -> str:
        found = match.group(0)
        if self._c.protect_refs and found[:1] == "<" and REF_RE.fullmatch(found):
            return found  # a reference made earlier; a custom regex matched inside it
        return self.ref("id", found)

    def _url_ints(self, value: str) -> str:
        """Integer ids in a URL or path: whole segments this backend has shown as id
        values (never other numbers: ``/pages/2`` stays), and query parameters named like
        an id key."""
        if "?" in value:
            value = QUERY_INT_RE.sub(self._query_sub, value)
        return PATH_INT_RE.sub(self._segment_sub, value)

    def _segment_sub(self, match: re.Match[str]) -> str:
        """A path segment is an id only when this backend has shown it as one: in the
        table the segment before it names (``/shelves/3``), else the one with that number."""
        found = match.group(0)
        table = scope_of(match.string[: match.start() - 1].rsplit("/", 1)[-1])
        if table in self._tables:
            return self._to_ref.get(("id", f"{table}#{found}"), found)
        return self._by_number(found) or found

    def _query_sub(self, match: re.Match[str]) -> str:
        name, digits = match.group(1), match.group(2)
        if self._c.is_id_key(name):
            return f"{name}={self._int_id(digits, name)}"
        return match.group(0)

    def value(self, obj: Any, key: str | None = None) -> Any:
        """A JSON value with its volatile values replaced; ``key`` is the JSON key it
        sits under (cursor, token and id keys are recognised by it)."""
        c = self._c
        if isinstance(obj, dict):
            if not c.integer:
                return {k: self.value(v, k) for k, v in obj.items()}
            return {k: self._within(k, v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.value(v, key) for v in obj]
        if isinstance(obj, str):
            if obj and key is not None:
                if key in c.cursor_keys:
                    return self.ref("cursor", obj)
                if key in c.token_keys:
                    return self.ref("token", obj)
                if c.integer and obj.isdigit() and obj.isascii() and c.is_id_key(key):
                    # "id": "3" (JSON:API): an id, and it stays a string
                    return self._int_id(obj, key)
            return self.text(obj)
        if type(obj) is int and c.integer and key is not None and c.is_id_key(key):
            found = self._int_id(str(obj), key)
            if found[-2] != "?":  # not a value masked by an unordered list's dry run
                self._int_refs.add(found)
            return found
        return obj

    def _within(self, key: str, value: Any, nodes: tuple[PathNode, ...] = ()) -> Any:
        """``value`` under ``key``; an object (or list of objects) under a key such as
        ``shelf`` belongs to that table, so its ``id`` counts there."""
        if not isinstance(value, dict | list) or key.lower() in GENERIC_KEYS:
            return self._walk(value, key, nodes) if nodes else self.value(value, key)
        saved, self._table = self._table, scope_of(key) or self._table
        try:
            return self._walk(value, key, nodes) if nodes else self.value(value, key)
        finally:
            self._table = saved

    def _walk(self, obj: Any, key: str | None, nodes: tuple[PathNode, ...]) -> Any:
        """:meth:`value` where ``nodes`` (ignore/unordered paths) reach into ``obj``."""
        for node in nodes:
            if node.ignore:
                return IGNORED
        if isinstance(obj, dict):
            out: dict[str, Any] = {}
            for k, v in obj.items():
                below = _for_key(nodes, k)
                if self._c.integer:
                    out[k] = self._within(k, v, below)
                else:
                    out[k] = self._walk(v, k, below) if below else self.value(v, k)
            return out
        if isinstance(obj, list):
            kids = [_for_index(nodes, i) for i in range(len(obj))]
            if any(node.unordered for node in nodes):
                return self._unordered(obj, key, kids)
            return [
                self._walk(v, key, below) if below else self.value(v, key)
                for v, below in zip(obj, kids, strict=True)
            ]
        return self.value(obj, key)

    def _unordered(
        self, obj: list[Any], key: str | None, kids: list[tuple[PathNode, ...]]
    ) -> list[Any]:
        """A list compared as a multiset: elements normalised, then sorted by their
        canonical dump. New references are handed out in the order of the elements'
        content (a dry run masks values not seen yet), not the order the backend listed
        them in; when nothing new appears the dry run is the answer."""
        misses = self._peek_misses
        self._peeking += 1
        try:
            dry = [self._walk(v, key, below) for v, below in zip(obj, kids, strict=True)]
        finally:
            self._peeking -= 1
        if self._peek_misses == misses or self._peeking:
            return sorted(dry, key=_canon)
        masked = [_canon(v) for v in dry]
        out: list[Any] = [None] * len(obj)
        for i in sorted(range(len(obj)), key=masked.__getitem__):
            out[i] = self._walk(obj[i], key, kids[i])
        return sorted(out, key=_canon)

    def header(self, name: str, value: str) -> str:
        if name == "content-type":
            return value.split(";", 1)[0].strip().lower()
        if name == "etag":
            text = self.text(value)
            return self.ref("etag", value) if HASHY_RE.match(text) else text
        if name == "location":
            # Absolute and relative forms of the same location are the same answer.
            return self.text(ORIGIN_RE.sub("", value))
        return self.text(value)

    def response(self, resp: Response, path: str | None = None) -> dict[str, Any]:
        """The comparable form of a response: status, chosen headers, normalised body.

        The body is normalised before the headers so that an id a header mentions
        (``location: /notes/3``) is already known from the body (``{"id": 3}``): integer
        ids in paths are only recognised once seen as id values. ``path`` (the request's)
        names the table the answer's own ``id`` values count in.
        """
        saved, self._table = self._table, collection_of(path) if self._c.integer else None
        try:
            return self._response(resp)
        finally:
            self._table = saved

    def _response(self, resp: Response) -> dict[str, Any]:
        root = self._c.root
        parsed = resp.json()
        body_nodes = root.for_key("body") if root is not None else ()
        if parsed is not None or not resp.body:
            body: Any = self._walk(parsed, None, body_nodes) if body_nodes else self.value(parsed)
        else:
            body = IGNORED if any(n.ignore for n in body_nodes) else self.text(resp.text)
        if root is None:
            headers = {
                name: self.header(name, resp.headers[name])
                for name in self.options.headers
                if name in resp.headers
            }
            return {"status": resp.status, "headers": headers, "body": body}
        header_nodes = root.for_key("headers")
        if any(n.ignore for n in header_nodes):
            headers_out: Any = IGNORED
        else:
            headers_out = {
                name: IGNORED
                if any(n.ignore for n in _for_key(header_nodes, name))
                else self.header(name, resp.headers[name])
                for name in self.options.headers
                if name in resp.headers
            }
        status: Any = resp.status
        if any(n.ignore for n in root.for_key("status")):
            status = IGNORED
        return {"status": status, "headers": headers_out, "body": body}

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        label: str = "",
    ) -> NormalizedRequest:
        saved, self._table = self._table, collection_of(path) if self._c.integer else None
        try:
            return NormalizedRequest(
                method=method.upper(),
                path=self.text(path),
                headers={k.lower(): self.text(v) for k, v in (headers or {}).items()},
                json=self.value(json) if json is not None else None,
                label=label,
            )
        finally:
            self._table = saved

    # references → raw -----------------------------------------------------------------

    def _lookup(self, ref: str, fallback: Normalizer | None) -> str | None:
        raw = self._to_raw.get(ref)
        if raw is None and fallback is not None:
            found = fallback.raw_value(ref)
            if found is not None:
                table = fallback._scopes.get(ref)
                self.bind(ref, found, table, known=table in fallback._tables)
                raw = str(found)
        return raw

    def denormalize_text(self, value: str, fallback: Normalizer | None = None) -> str:
        def sub(match: re.Match[str]) -> str:
            ref = match.group(0)
            raw = self._lookup(ref, fallback)
            return raw if raw is not None else ref

        return REF_RE.sub(sub, value)

    def denormalize(self, obj: Any, fallback: Normalizer | None = None) -> Any:
        if isinstance(obj, dict):
            return {k: self.denormalize(v, fallback) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.denormalize(v, fallback) for v in obj]
        if isinstance(obj, str):
            if obj.startswith("<id:") and REF_RE.fullmatch(obj):
                raw = self._lookup(obj, fallback)
                if raw is not None and obj in self._int_refs:
                    return int(raw)  # an integer id goes back as a JSON integer
            return self.denormalize_text(obj, fallback)
        return obj

    def raw_request(
        self, req: NormalizedRequest, fallback: Normalizer | None = None
    ) -> tuple[str, str, dict[str, str], Any]:
        """This backend's concrete (method, path, headers, json) for ``req``."""
        path = self.denormalize_text(req.path, fallback)
        if req.method == "DELETE" and self._c.integer:
            self._retire(req.path)
        return (
            req.method,
            path,
            {k: self.denormalize_text(v, fallback) for k, v in req.headers.items()},
            self.denormalize(req.json, fallback),
        )

    def _retire(self, path: str) -> None:
        """A DELETE whose path ends in an integer id frees that raw value: a backend that
        re-uses row numbers (SQLite without AUTOINCREMENT) may hand it to the next object,
        which must get a new reference like the fresh number on other backends. The old
        reference keeps its raw value, so a stale request still reaches it."""
        last = path.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if not last.startswith("<id:"):
            return
        raw = self._to_raw.get(last)
        if raw is None or not raw.isdigit():
            return
        table = self._scopes.get(last)
        key = ("id", f"{table}#{raw}" if table else raw)
        if self._to_ref.get(key) == last:
            del self._to_ref[key]


def _canonical_ts_match(match: re.Match[str]) -> str:
    return _canonical_ts(match.group(0))


def _for_key(nodes: tuple[PathNode, ...], key: str) -> tuple[PathNode, ...]:
    if len(nodes) == 1:
        return nodes[0].for_key(key)
    return tuple(child for node in nodes for child in node.for_key(key))


def _for_index(nodes: tuple[PathNode, ...], index: int) -> tuple[PathNode, ...]:
    if len(nodes) == 1:
        return nodes[0].for_index(index)
    return tuple(child for node in nodes for child in node.for_index(index))
