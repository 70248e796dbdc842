"""Volatile values → stable references, per backend, and back.

Each backend in a lockstep example has its own :class:`Normalizer`. The first id a
backend ever returns becomes ``<id:1>``, the second new one ``<id:2>``, and so on, so two
backends that create the same things in the same order agree on references even if their
raw ids differ. A request is written once in the reference backend's raw values,
normalised to references, then *denormalised* with each backend's own mapping: that is
how "follow this cursor" or "get this card" reaches the right object on every backend
(cursors are compared by following them, never by value).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from parity.targets.base import Response

REF_RE = re.compile(r"<(id|cursor|token|ts|etag):(\d+)>")
# prefix_ + 26 Crockford base32 characters (the reference app's sortable ids), or a UUID.
ID_RE = re.compile(
    r"\b[a-z][a-z0-9]*_[0-9A-HJKMNP-TV-Z]{26}\b"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)
JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
TS_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})\b")
HASHY_RE = re.compile(r'^(W/)?"?[0-9A-Za-z+/=_-]{16,}"?$')


@dataclass(frozen=True)
class DiffOptions:
    """What counts as a difference. Defaults suit JSON APIs like the reference app."""

    #: response headers compared (lower-case); every other header is ignored.
    headers: tuple[str, ...] = ("content-type", "etag", "idempotent-replayed", "location")
    #: JSON keys whose whole value is an opaque cursor or token.
    cursor_keys: tuple[str, ...] = ("next_cursor", "cursor", "prev_cursor")
    token_keys: tuple[str, ...] = ("access_token", "token", "refresh_token")
    #: body paths never compared (e.g. ``body.detail`` for free-text messages).
    ignore_paths: tuple[str, ...] = ()
    #: "ref" maps timestamps to ``<ts:N>`` by first appearance (robust to real clocks);
    #: "canonical" keeps the instant, only its formatting is normalised.
    timestamps: str = "ref"


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
        self._to_ref: dict[tuple[str, str], str] = {}
        self._to_raw: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        #: opaque values (cursors, tokens) seen whole; replaced wherever they reappear,
        #: e.g. a cursor inside a query string or a token in an Authorization header
        self._opaque: dict[str, str] = {}

    # the mapping ----------------------------------------------------------------------

    def ref(self, kind: str, raw: str) -> str:
        key = (kind, _canonical_ts(raw) if kind == "ts" else raw)
        found = self._to_ref.get(key)
        if found is None:
            n = self._counters.get(kind, 0) + 1
            self._counters[kind] = n
            found = f"<{kind}:{n}>"
            self._to_ref[key] = found
            self._to_raw[found] = raw
            if kind in ("cursor", "token"):
                self._opaque[raw] = found
        return found

    def bind(self, ref: str, raw: str) -> None:
        """Adopt ``raw`` as this backend's value for ``ref`` (a value no response of this
        backend has shown yet, e.g. an id the scenario made up for a 404 probe)."""
        kind = ref[1:].split(":", 1)[0]
        self._to_ref.setdefault((kind, raw), ref)
        self._to_raw.setdefault(ref, raw)
        n = int(ref[1:-1].split(":", 1)[1])
        self._counters[kind] = max(self._counters.get(kind, 0), n)

    def raw(self, ref: str) -> str | None:
        return self._to_raw.get(ref)

    # raw → references -----------------------------------------------------------------

    def text(self, value: str) -> str:
        """Replace every volatile value inside free text (paths, messages, headers)."""
        for raw, ref in self._opaque.items():
            if raw in value:
                # whole tokens only: a short cursor must not match inside another word
                pattern = rf"(?<![A-Za-z0-9_.-]){re.escape(raw)}(?![A-Za-z0-9_.=-])"
                value = re.sub(pattern, ref, value)
        value = JWT_RE.sub(lambda m: self.ref("token", m.group(0)), value)
        value = ID_RE.sub(lambda m: self.ref("id", m.group(0)), value)
        if self.options.timestamps == "ref":
            return TS_RE.sub(lambda m: self.ref("ts", m.group(0)), value)
        return TS_RE.sub(lambda m: _canonical_ts(m.group(0)), value)

    def value(self, obj: Any, key: str | None = None) -> Any:
        if isinstance(obj, dict):
            return {k: self.value(v, k) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.value(v, key) for v in obj]
        if isinstance(obj, str):
            if key in self.options.cursor_keys and obj:
                return self.ref("cursor", obj)
            if key in self.options.token_keys and obj:
                return self.ref("token", obj)
            return self.text(obj)
        return obj

    def header(self, name: str, value: str) -> str:
        if name == "content-type":
            return value.split(";", 1)[0].strip().lower()
        if name == "etag":
            text = self.text(value)
            return self.ref("etag", value) if HASHY_RE.match(text) else text
        if name == "location":
            # Absolute and relative forms of the same location are the same answer.
            return self.text(re.sub(r"^https?://[^/]+", "", value))
        return self.text(value)

    def response(self, resp: Response) -> dict[str, Any]:
        """The comparable form of a response: status, chosen headers, normalised body."""
        headers = {
            name: self.header(name, resp.headers[name])
            for name in self.options.headers
            if name in resp.headers
        }
        parsed = resp.json()
        body: Any = (
            self.value(parsed) if parsed is not None or not resp.body else self.text(resp.text)
        )
        return {"status": resp.status, "headers": headers, "body": body}

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        label: str = "",
    ) -> NormalizedRequest:
        return NormalizedRequest(
            method=method.upper(),
            path=self.text(path),
            headers={k.lower(): self.text(v) for k, v in (headers or {}).items()},
            json=self.value(json) if json is not None else None,
            label=label,
        )

    # references → raw -----------------------------------------------------------------

    def denormalize_text(self, value: str, fallback: Normalizer | None = None) -> str:
        def sub(match: re.Match[str]) -> str:
            ref = match.group(0)
            raw = self._to_raw.get(ref)
            if raw is None and fallback is not None:
                raw = fallback.raw(ref)
                if raw is not None:
                    self.bind(ref, raw)
            return raw if raw is not None else ref

        return REF_RE.sub(sub, value)

    def denormalize(self, obj: Any, fallback: Normalizer | None = None) -> Any:
        if isinstance(obj, dict):
            return {k: self.denormalize(v, fallback) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.denormalize(v, fallback) for v in obj]
        if isinstance(obj, str):
            return self.denormalize_text(obj, fallback)
        return obj

    def raw_request(
        self, req: NormalizedRequest, fallback: Normalizer | None = None
    ) -> tuple[str, str, dict[str, str], Any]:
        """This backend's concrete (method, path, headers, json) for ``req``."""
        return (
            req.method,
            self.denormalize_text(req.path, fallback),
            {k: self.denormalize_text(v, fallback) for k, v in req.headers.items()},
            self.denormalize(req.json, fallback),
        )
