"""The target port: send one request, get status, headers and body back."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Response:
    """What a backend answered. Header names are lower-cased: HTTP headers are
    case-insensitive and diffs must not flag ``ETag`` vs ``etag``."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed: float = 0.0  # seconds spent inside the target call

    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return jsonlib.loads(self.body)
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Target(Protocol):
    """Anything that can answer an HTTP-shaped request."""

    name: str
    #: True when a call mostly waits (network, a server): lockstep then sends to all
    #: backends concurrently; CPU-bound in-process calls are sent one after another
    blocking_io: bool

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        body: bytes | None = None,
    ) -> Response: ...

    def close(self) -> None: ...


def encode_body(
    headers: Mapping[str, str] | None, json: Any, body: bytes | None
) -> tuple[dict[str, str], bytes]:
    """Merge ``json``/``body`` into one byte body and its headers (shared by targets so
    both encode a request identically: a diff must never come from the transport)."""
    out = {k.lower(): v for k, v in (headers or {}).items()}
    if json is not None:
        if body is not None:
            raise ValueError("pass json or body, not both")
        body = jsonlib.dumps(json, separators=(",", ":")).encode()
        out.setdefault("content-type", "application/json")
    return out, body or b""
