"""Faults that answer 500 inside a held interleaving (for tests, not for the selftest).

- ``held-500`` — every request that carries ``X-Parity-Tag`` (one the harness holds at a
  pause point) runs, then its answer is replaced by a 500: deterministic, so Hypothesis
  replays and shrinks it.
- ``held-500-once`` — only the first such request of the process answers 500, the way a
  lock timeout under load does: the failing example can never be replayed, so Hypothesis
  ends with a flaky-test error instead of a shrunk failure.

``python -m tests.scenarios.held_faults ARGV...`` is ``parity ARGV...`` with both
registered (``--backends memory,fault:held-500``).
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from parity import AppBinding, Store, register_fault

TAG = b"x-parity-tag"


class Held500:
    """ASGI middleware: a tagged request runs (and is held) as usual, then answers 500."""

    def __init__(self, app: Any, once: bool) -> None:
        self.app = app
        self.once = once

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        tagged = scope["type"] == "http" and any(k == TAG for k, _ in scope.get("headers", ()))
        if not tagged or (self.once and not _first()):
            await self.app(scope, receive, send)
            return

        async def swallow(message: dict[str, Any]) -> None:
            return None

        await self.app(scope, receive, swallow)
        body = json.dumps({"type": "about:blank", "title": "Internal Server Error"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [(b"content-type", b"application/problem+json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


_lock = threading.Lock()
_fired = False


def _first() -> bool:
    global _fired
    with _lock:
        first, _fired = not _fired, True
    return first


def _builder(once: bool) -> Any:
    def build(binding: AppBinding, store: Store) -> Any:
        return Held500(binding.build_app(store), once)

    return build


register_fault("held-500", "500 on every held request", _builder(False), scenarios=("concurrency",))
register_fault(
    "held-500-once",
    "500 on the first held request only (unreplayable)",
    _builder(True),
    scenarios=("concurrency",),
)


if __name__ == "__main__":
    from parity.cli import main

    sys.exit(main(sys.argv[1:]))
