"""Real backends for the contract tests, one of them with a planted contract fault.

A fault is an ASGI middleware around the real app on ONE backend (sqlite), rewriting one
kind of answer: what a buggy backend adapter or a bad deploy would send.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from parity.config import ParityConfig, load_config
from parity.contract.runner import ContractRunner
from parity.contract.suite import contract_for
from parity.run.backends import Backends, provision
from parity.targets.factory import AppTargetFactory

Rewrite = Callable[[int, dict[str, Any]], tuple[int, dict[str, Any]]]


class RewriteMiddleware:
    """Buffer the answers to ``method path-prefix`` and pass them through ``rewrite``."""

    def __init__(self, app: Any, method: str, prefix: str, rewrite: Rewrite) -> None:
        self.app, self.method, self.prefix, self.rewrite = app, method, prefix, rewrite

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != self.method
            or not str(scope["path"]).startswith(self.prefix)
            or "/transactions" in str(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        status, body = self.rewrite(start["status"], json.loads(b"".join(chunks) or b"null"))
        payload = json.dumps(body).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def undocumented_404(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """GET /v1/cards/{id}: a missing card answers 410 Gone (not in the contract)."""
    return (410, {**body, "status": 410}) if status == 404 else (status, body)


def score_as_text(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """GET /v1/users/me: ``score`` becomes a string (the schema says integer)."""
    return (status, {**body, "score": "high"}) if status == 200 else (status, body)


FAULTS: dict[str, tuple[str, str, Rewrite]] = {
    "undocumented-status": ("GET", "/v1/cards/", undocumented_404),
    "schema-violation": ("GET", "/v1/users/me", score_as_text),
    # the same on GET /v1/users/{id} (ids are usr_…): every check stays on for getUser
    "user-schema-violation": ("GET", "/v1/users/usr_", score_as_text),
}


def planted_factory(base: AppTargetFactory, fault: str) -> AppTargetFactory:
    """The real sqlite backend's app with one fault wrapped around it."""
    method, prefix, rewrite = FAULTS[fault]

    def build(store: Any) -> Any:
        return RewriteMiddleware(base.binding.build_app(store), method, prefix, rewrite)

    return AppTargetFactory(base.name, base.engine, base.binding, build=build)


@pytest.fixture(scope="session")
def config() -> ParityConfig:
    return load_config()


@pytest.fixture(scope="session")
def backends(config: ParityConfig) -> Iterator[Backends]:
    provisioned = provision(["memory", "sqlite"], config, 0)
    yield provisioned
    provisioned.close()


def make_runner(
    config: ParityConfig, backends: Backends, *, seed: int, examples: int, fault: str | None = None
) -> ContractRunner:
    factories = dict(backends.factories)
    if fault is not None:
        base = factories["sqlite"]
        assert isinstance(base, AppTargetFactory)
        factories["sqlite"] = planted_factory(base, fault)
    assert backends.binding is not None
    return ContractRunner(
        contract_for(config, backends, f"t{seed}_schema"),
        factories,
        backends.reference,
        binding=backends.binding,
        examples=examples,
        seed=seed,
        namespace_prefix=f"t{seed}_{fault or 'clean'}",
    )


def operation(runner: ContractRunner, label: str) -> Any:
    return next(op for op in runner.operations() if op.label == label)
