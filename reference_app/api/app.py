"""Builds the FastAPI application around an already wired container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from reference_app.api import control, problems
from reference_app.api.openapi_doc import build_openapi
from reference_app.api.routes import card_requests, cards, events, health, transactions, users
from reference_app.service_layer.context import request_tag

TITLE = "Card ledger reference API"
VERSION = "1.0.0"


class ParityTagMiddleware:
    """Copies ``X-Parity-Tag`` into :data:`request_tag` (parity mode only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tag = None
        for name, value in scope.get("headers", ()):
            if name == b"x-parity-tag":
                tag = value.decode("latin-1")
        token = request_tag.set(tag)
        try:
            await self.app(scope, receive, send)
        finally:
            request_tag.reset(token)


def bind(app: FastAPI, container: Any) -> None:
    """Point ``app`` at ``container``: every request looks its services up here."""
    app.state.container = container
    app.state.services = container.services


def build_fastapi(container: Any) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = app.state.container  # the one bound now (the harness may rebind)
        running.start_background()
        try:
            yield
        finally:
            running.stop_background()

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    bind(app, container)
    problems.install(app)
    for module in (users, card_requests, cards, transactions, events, health):
        app.include_router(module.router)
    if container.settings.parity_mode:
        app.include_router(control.router)
        app.add_middleware(ParityTagMiddleware)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app
