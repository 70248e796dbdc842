"""A ``requests`` adapter that delivers to a Parity target, and the conversions between
a prepared request, a target call and a schemathesis response.

Why an adapter: schemathesis checks such as ``ignored_auth`` or ``use_after_free`` send
requests of their own through the session they are given. Mounting this adapter on that
session sends them to the same backend (an in-process ASGI app or a server) without a
socket, so every check works unchanged on every backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
import schemathesis
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPHeaderDict, HTTPResponse

from parity.targets.base import Response as TargetResponse
from parity.targets.base import Target

#: the base URL every contract case is prepared for; only the path and query are sent
BASE_URL = "http://parity.contract"


@dataclass(frozen=True)
class WireRequest:
    """One request exactly as it goes on the wire: what every backend receives."""

    method: str
    path: str  # path and query string
    headers: dict[str, str]
    body: bytes

    @classmethod
    def from_prepared(cls, prepared: requests.PreparedRequest) -> WireRequest:
        parts = urlsplit(prepared.url or "/")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        raw = prepared.body
        body = (
            raw if isinstance(raw, bytes) else raw.encode("utf-8") if isinstance(raw, str) else b""
        )
        headers = {str(k): _header_text(v) for k, v in prepared.headers.items()}
        return cls(str(prepared.method), path, headers, body)

    def send(self, target: Target) -> TargetResponse:
        # Targets add content-length and host themselves; sending ours too would duplicate.
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
        return target.request(self.method, self.path, headers, body=self.body)

    def line(self) -> str:
        return f"{self.method} {self.path}"


_HOP_HEADERS = {"content-length", "host", "connection", "accept-encoding"}


def _header_text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def to_requests_response(
    resp: TargetResponse, prepared: requests.PreparedRequest
) -> requests.Response:
    """What ``requests`` would have built had the answer come over a socket (schemathesis
    reads headers from ``raw``, so that is filled in too)."""
    out = requests.Response()
    out.status_code = resp.status
    out.headers = CaseInsensitiveDict(resp.headers)
    out.raw = HTTPResponse(
        body=b"",
        headers=HTTPHeaderDict(resp.headers),
        status=resp.status,
        version=11,
        preload_content=False,
    )
    out._content = resp.body
    out.url = prepared.url or ""
    out.request = prepared
    out.encoding = None
    out.reason = ""
    out.elapsed = timedelta(seconds=resp.elapsed)
    return out


def to_schemathesis_response(
    resp: TargetResponse, prepared: requests.PreparedRequest
) -> schemathesis.Response:
    return schemathesis.Response(
        status_code=resp.status,
        headers={k: [v] for k, v in resp.headers.items()},
        content=resp.body,
        request=prepared,
        elapsed=resp.elapsed,
        verify=True,
    )


class TargetAdapter(BaseAdapter):
    """Send every request of a ``requests`` session to one Parity target."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        wire = WireRequest.from_prepared(request)
        return to_requests_response(wire.send(self.target), request)

    def close(self) -> None:
        return None


def session_for(target: Target, headers: Mapping[str, str] | None = None) -> requests.Session:
    """A session whose every request reaches ``target``."""
    session = requests.Session()
    session.trust_env = False
    session.headers.clear()
    session.headers.update(dict(headers or {}))
    session.mount(BASE_URL, TargetAdapter(target))
    return session
