"""A fault only a free race shows (for tests, not for the selftest).

``race-500`` — a transaction ``POST`` that overlaps another one still in flight on the
same app answers 500 (after running), the way a store that gives up on contention does.
Sequential calls and held interleavings (released one at a time) never overlap, so only
the concurrency scenario's free race catches it, and whether a given race overlaps is
up to the scheduler: Hypothesis may or may not see it again when it replays.

``python -m tests.scenarios.race_faults ARGV...`` is ``parity ARGV...`` with it
registered (``--backends memory,fault:race-500``).
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from parity import AppBinding, Store, register_fault


class Overlap500:
    """ASGI middleware: a transaction post that overlapped another one answers 500."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._in_flight = 0
        self._overlapped = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        posting = (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].endswith("/transactions")
        )
        if not posting:
            await self.app(scope, receive, send)
            return
        with self._lock:
            self._in_flight += 1
            overlapped = self._in_flight > 1
            self._overlapped = self._overlapped or overlapped
        answered: list[dict[str, Any]] = []

        async def keep(message: dict[str, Any]) -> None:
            answered.append(message)

        try:
            await self.app(scope, receive, keep)
        finally:
            with self._lock:
                self._in_flight -= 1
                overlapped = overlapped or (self._in_flight > 0 and self._overlapped)
                if self._in_flight == 0:
                    self._overlapped = False
        if not overlapped:
            for message in answered:
                await send(message)
            return
        body = json.dumps({"type": "about:blank", "title": "Internal Server Error"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [(b"content-type", b"application/problem+json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _build(binding: AppBinding, store: Store) -> Any:
    return Overlap500(binding.build_app(store))


register_fault(
    "race-500",
    "500 on a transaction post that overlaps another",
    _build,
    scenarios=("concurrency",),
)


if __name__ == "__main__":
    from parity.cli import main

    sys.exit(main(sys.argv[1:]))
