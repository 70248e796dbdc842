"""Opaque, tamper-evident keyset cursors and the page loop every listing shares.

A cursor is ``base64url(json) . base64url(hmac)``. The JSON names the listing and a
digest of its filters, so a cursor from one listing (or filter) is refused on another;
the HMAC makes any edit a 400 rather than a silently different page. Cursors carry the
(created_at, id) of the last row returned, never an offset: rows that arrive while a
client pages can never shift it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from reference_app.domain import errors
from reference_app.domain.timefmt import format_ts, parse_ts
from reference_app.service_layer.unit_of_work import PageKey, PageQuery

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"cursor:" + secret.encode()).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    @staticmethod
    def _scope(listing: str, filters: dict[str, str | None]) -> str:
        text = json.dumps([listing, filters], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def encode(self, listing: str, filters: dict[str, str | None], key: PageKey) -> str:
        payload = json.dumps(
            {"s": self._scope(listing, filters), "t": format_ts(key.created_at), "i": key.id},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, listing: str, filters: dict[str, str | None], cursor: str) -> PageKey:
        try:
            payload_part, sig_part = cursor.split(".")
            payload, sig = _unb64(payload_part), _unb64(sig_part)
        except (ValueError, binascii.Error) as exc:
            raise errors.InvalidCursor("cursor is malformed") from exc
        if not hmac.compare_digest(sig, self._sign(payload)):
            raise errors.InvalidCursor("cursor is not one this API issued")
        try:
            data = json.loads(payload)
            if data["s"] != self._scope(listing, filters):
                raise errors.InvalidCursor("cursor belongs to another listing or filter")
            return PageKey(parse_ts(data["t"]), str(data["i"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.InvalidCursor("cursor is malformed") from exc


def paginate(
    codec: CursorCodec,
    listing: str,
    filters: dict[str, str | None],
    limit: int,
    cursor: str | None,
    fetch: Callable[[PageQuery], list[T]],
    key_of: Callable[[T], PageKey],
) -> Page[T]:
    """One page of ``limit`` rows; asks for one more to know if a next page exists, so
    the last page never comes with a cursor to an empty page."""
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.BadRequest(f"limit must be between 1 and {MAX_LIMIT}")
    after = codec.decode(listing, filters, cursor) if cursor else None
    rows = fetch(PageQuery(limit=limit + 1, after=after))
    if len(rows) <= limit:
        return Page(rows, None)
    page = rows[:limit]
    return Page(page, codec.encode(listing, filters, key_of(page[-1])))
