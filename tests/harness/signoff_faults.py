"""A registry of planted faults for ``parity selftest --registry`` tests (never the
project's selftest module): one the ledger scenario must catch, one the contract suite.

Both are the same protocol slip — a new transaction answers 200 instead of 201 — so the
only difference between them is which suite is expected to catch it."""

from __future__ import annotations

from typing import Any

from parity import AppBinding, Store, register_fault
from reference_app.bootstrap import create_app
from scenarios.binding import ReferenceBinding


class CreatedAsOk:
    """ASGI middleware: every 201 answer to a transaction ``POST`` becomes a 200."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).endswith("/transactions"):
            await self.app(scope, receive, send)
            return

        async def relabel(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 201:
                message = {**message, "status": 200}
            await send(message)

        await self.app(scope, receive, relabel)


def _build(binding: AppBinding, store: Store) -> Any:
    assert isinstance(binding, ReferenceBinding)
    return CreatedAsOk(create_app(binding.settings_for(store)))


register_fault("created-as-ok-ledger", "200 for a new transaction", _build, scenarios=("ledger",))
register_fault("created-as-ok-contract", "200 for a new transaction", _build, suite="contract")


if __name__ == "__main__":  # ``parity ARGV...`` with these two registered
    import sys

    from parity.cli import main

    sys.exit(main(sys.argv[1:]))
