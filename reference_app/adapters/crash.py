"""The crash seam the harness arms: the next request dies after its k-th write.

Only wired in parity mode (``POST /_parity/crash/arm``). Writes are counted across every
commit of the next request (an idempotency claim, then the state change), and the death
is a :class:`~reference_app.service_layer.crash.ProcessCrash` raised where the backend
is when it reports its k-th write: a SQL transaction not yet committed is rolled back as
the server would on a dropped connection, an all-or-nothing request never goes out, and
a backend that already made a separate store call keeps what that call wrote. A request
with fewer than k writes completes and the process dies before answering (the client
never learns it committed). Either way the request answers 500, and from then on the
seam is "dead": every commit fails before writing until ``POST /_parity/restart``
rebuilds the app on the same store — so clean-up code (releasing an idempotency claim)
cannot write what a dead process never would.

One armed crash targets the next request to the API (``/_parity`` calls do not count):
the harness arms it right before the request it means, one request at a time.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_app.api.problems import problem_response
from reference_app.service_layer.crash import ProcessCrash

_CRASHED = {
    "type": "about:blank",
    "title": "Process crashed",
    "status": 500,
    "detail": "the parity crash seam killed this request",
}


class CrashSeam:
    """Crash points of one app process (see
    :class:`~reference_app.service_layer.crash.CrashPoints`), shared by every unit of work
    of its backend and by :class:`CrashWindow`, which opens and closes the request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._after: int | None = None  # armed: die after this many writes
        self._written = 0
        self._open = False  # the armed request is running
        self.dead = False

    @property
    def armed(self) -> bool:
        return self._after is not None

    def arm(self, after_writes: int) -> None:
        if after_writes < 1:
            raise ValueError("after_writes counts writes from 1")
        with self._lock:
            self._after, self._written, self._open = after_writes, 0, False

    def restarted(self) -> None:
        """The app came back on the same store: alive, nothing armed."""
        with self._lock:
            self._after, self._written, self._open, self.dead = None, 0, False, False

    def request_started(self) -> bool:
        """The armed request begins (``False``: nothing armed, nothing to watch)."""
        with self._lock:
            self._open = self._after is not None
            return self._open

    def request_finished(self) -> bool:
        """The armed request ended without reaching its k-th write: the process dies
        now, before it answers. ``True`` when it did."""
        with self._lock:
            if not self._open:
                return False
            self._disarm_dead()
            return True

    def begin(self) -> None:
        with self._lock:
            if self.dead:
                raise ProcessCrash("the process died in an earlier request")

    def wrote(self) -> None:
        with self._lock:
            if not self._open:
                return
            self._written += 1
            if self._written != self._after:
                return
            self._disarm_dead()
        raise ProcessCrash(f"died after write {self._written} of the request")

    def _disarm_dead(self) -> None:
        self._after, self._open, self.dead = None, False, True


class CrashWindow:
    """ASGI middleware: opens the armed crash's request, and kills it after its last
    write if the crash has not landed inside (its answer is held back and replaced);
    while the process is dead, every request to the API answers 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        seam = _seam(scope)
        if seam is None or scope["path"].startswith("/_parity"):
            await self.app(scope, receive, send)
            return
        if seam.dead:  # a dead process answers nothing, not even a read
            await problem_response(500, _CRASHED)(scope, receive, send)
            return
        if not seam.armed:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        seam.request_started()
        try:
            await self.app(scope, receive, hold)
        finally:
            died = seam.request_finished()
        if died:
            await problem_response(500, _CRASHED)(scope, receive, send)
            return
        for message in held:
            await send(message)


def _seam(scope: Scope) -> CrashSeam | None:
    if scope["type"] != "http":
        return None
    app: Any = scope.get("app")
    container = getattr(getattr(app, "state", None), "container", None)
    crash = getattr(container, "crash", None)
    return crash if isinstance(crash, CrashSeam) else None


async def _crashed(request: Request, exc: Exception) -> Response:
    """How a killed request answers: a plain 500 on every backend alike (a real server's
    connection would drop; a 500 keeps in-process and served targets comparable)."""
    return problem_response(500, _CRASHED)


def install(app: FastAPI) -> None:
    """Wire the seam's request window and its answer into a parity-mode app."""
    app.add_middleware(CrashWindow)
    app.add_exception_handler(ProcessCrash, _crashed)
