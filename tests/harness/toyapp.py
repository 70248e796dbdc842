"""A tiny FastAPI app with ids, cursors and timestamps: enough surface to test the harness
without the reference app. ``bug`` plants a divergence (values above 5 are off by one)."""

from __future__ import annotations

import base64
import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from parity.targets.asgi import AsgiTarget
from parity.targets.base import Target

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class ItemIn(BaseModel):
    value: int


def make_app(bug: bool = False, id_offset: int = 0) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.lifespan_runs += 1
        yield

    app = FastAPI(lifespan=lifespan)
    items: list[dict[str, Any]] = []
    counter = itertools.count(1 + id_offset)
    app.state.lifespan_runs = 0

    @app.post("/items", status_code=201)
    async def create(item: ItemIn, response: Response) -> dict[str, Any]:
        n = next(counter)
        ident = "item_" + "".join(ALPHABET[(n >> (5 * i)) % 32] for i in range(26))[::-1]
        value = item.value + 1 if bug and item.value > 5 else item.value
        row = {"id": ident, "value": value, "created_at": f"2026-01-01T00:00:{n % 60:02d}Z"}
        items.append(row)
        response.headers["ETag"] = f'"{len(items)}"'
        response.headers["Location"] = f"/items/{ident}"
        return row

    @app.get("/items")
    async def listing(limit: int = 2, cursor: str | None = None) -> dict[str, Any]:
        start = (
            int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":")[1]) if cursor else 0
        )
        page = items[start : start + limit]
        more = start + limit < len(items)
        token = f"{id_offset}:{start + limit}".encode()
        return {
            "items": page,
            "next_cursor": base64.urlsafe_b64encode(token).decode() if more else None,
        }

    @app.get("/items/{ident}")
    async def get(ident: str, x_who: str | None = Header(default=None)) -> Any:
        for row in items:
            if row["id"] == ident:
                return row
        return JSONResponse(
            {"type": "urn:toy:not-found", "status": 404},
            status_code=404,
            media_type="application/problem+json",
        )

    return app


class ToyFactory:
    """A :class:`~parity.targets.factory.TargetFactory` over fresh toy apps."""

    def __init__(self, name: str, bug: bool = False, id_offset: int = 0) -> None:
        self.name = name
        self.bug = bug
        self.id_offset = id_offset
        self.created = 0

    def new_target(self, namespace: str) -> Target:
        self.created += 1
        return AsgiTarget(make_app(self.bug, self.id_offset), self.name, blocking_io=False)

    def release(self, target: Target) -> None:
        target.close()

    def close(self) -> None:
        return None
