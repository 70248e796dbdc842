"""In-process target: call the ASGI app directly on a private event loop.

Why a private loop thread: lockstep calls arrive from a thread pool (one worker per
backend), and concurrency scenarios hold one request at a pause point while others run.
One long-lived loop per target runs the app's lifespan once and serves any number of
concurrent requests; a call costs one thread hop plus the app itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from parity.targets.base import Response, encode_body

ASGIApp = Any  # Callable[[scope, receive, send], Awaitable[None]]

#: Set inside one request's task: FastAPI runs that request's sync endpoints and sync
#: dependencies inline instead of hopping to a worker thread for each one.
_INLINE_SYNC: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "parity_inline_sync", default=False
)


def install_inline_sync() -> None:
    """Let FastAPI call *sync* endpoints and dependencies inline for requests that ask for
    it (only :class:`AsgiTarget`'s, through a context variable; every other use of
    FastAPI in the process is unchanged).

    Why it is kept, measured (benchmarks/README.md, "The app's plumbing"): an app written
    with sync endpoints and dependencies pays a thread hand-off for each one, and for an
    in-process backend whose storage is CPU-bound that buys nothing. On examples/bookshelf
    (sync endpoints and dependencies over SQLAlchemy, SQLite) the patch saves 20 % of a
    request's CPU. An app with ``async`` endpoints (the reference app) does not go through
    it at all. Fail-safe by design: if a FastAPI release moves ``run_in_threadpool``, the
    patch is skipped and such apps only run slower, never differently. Install it before
    the app is built.
    """
    try:
        import fastapi.dependencies.utils as deps
        import fastapi.routing as routing
    except ImportError:
        return
    for module in (routing, deps):
        original = getattr(module, "run_in_threadpool", None)
        if original is None or getattr(original, "parity_gated", False):
            continue

        async def gated(func: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            if _INLINE_SYNC.get():
                return func(*args, **kwargs)
            return await _original(func, *args, **kwargs)

        gated.parity_gated = True  # type: ignore[attr-defined]
        module.run_in_threadpool = gated  # type: ignore[attr-defined]


install_inline_sync()


_log = logging.getLogger("parity.targets")


class LifespanError(RuntimeError):
    """The app's lifespan startup failed: an infrastructure error, not a divergence."""


class AsgiTarget:
    def __init__(
        self,
        app: ASGIApp,
        name: str = "asgi",
        *,
        lifespan: bool = True,
        blocking_io: bool = True,
        inline_sync: bool | None = None,
    ) -> None:
        self.app = app
        self.name = name
        #: False when the app's storage is CPU-bound in this process (memory, SQLite):
        #: fanning such calls out to threads only adds GIL contention (measured: slower)
        self.blocking_io = blocking_io
        #: run the app's sync code inline (default: when the storage is CPU-bound).
        #: Must be False while requests may block (pause points): see ``hold``.
        self.inline_sync = (not blocking_io) if inline_sync is None else inline_sync
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(
            target=self._loop.run_until_complete,
            args=(self._main(),),
            name=f"parity-asgi-{name}",
            daemon=True,
        )
        self._thread.start()
        self._ready.wait()
        self._lifespan_task: asyncio.Future[None] | None = None
        self._lifespan_queue: asyncio.Queue[dict[str, Any]] | None = None
        self._shutdown_done: asyncio.Event | None = None
        self._closed = False
        if lifespan:
            self._run(self._startup())

    async def _main(self) -> None:
        # Run under run_until_complete, not run_forever: anyio then sees one root task
        # and keeps its worker threads for sync endpoints alive between requests,
        # instead of starting a thread per request (measured: 2.5 ms → well under 1 ms).
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        if self._lifespan_task is not None and not self._lifespan_task.done():
            self._lifespan_task.cancel()
            with contextlib.suppress(BaseException):
                await self._lifespan_task

    def _run(self, coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # lifespan -------------------------------------------------------------------------

    async def _startup(self) -> None:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        started = asyncio.Event()
        self._shutdown_done = asyncio.Event()
        failure: list[str] = []
        await queue.put({"type": "lifespan.startup"})

        async def send(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind == "lifespan.startup.complete":
                started.set()
            elif kind == "lifespan.startup.failed":
                failure.append(str(message.get("message", "")))
                started.set()
            elif kind.startswith("lifespan.shutdown"):
                assert self._shutdown_done is not None
                self._shutdown_done.set()

        async def run() -> None:
            try:
                await self.app(
                    {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                    queue.get,
                    send,
                )
            except Exception:  # an app without lifespan support may raise: that is fine
                pass
            finally:
                started.set()
                assert self._shutdown_done is not None
                self._shutdown_done.set()

        self._lifespan_queue = queue
        self._lifespan_task = asyncio.ensure_future(run())
        await started.wait()
        if failure:
            raise LifespanError(f"{self.name}: lifespan startup failed: {failure[0]}")

    async def _shutdown(self) -> None:
        if self._lifespan_queue is None or self._shutdown_done is None:
            return
        await self._lifespan_queue.put({"type": "lifespan.shutdown"})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._shutdown_done.wait(), 5)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._run(self._shutdown(), timeout=10)
        finally:
            assert self._stop is not None
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(5)
            self._loop.close()

    # requests -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        body: bytes | None = None,
    ) -> Response:
        hdrs, payload = encode_body(headers, json, body)
        start = time.perf_counter()
        status, out_headers, out_body = self._run(self._call(method, path, hdrs, payload))
        return Response(status, out_headers, out_body, time.perf_counter() - start)

    def hold(self) -> None:
        """Requests may now block inside the app (pause points): stop running sync code
        inline so a held request cannot block the loop the others need."""
        self.inline_sync = False

    async def _call(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        _INLINE_SYNC.set(self.inline_sync)  # this task's context only
        parts = urlsplit(path)
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        raw_headers.append((b"host", b"parity.local"))
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method.upper(),
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("parity.local", 80),
            "state": {},
        }
        sent = False
        status = 500
        response_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # block until cancelled, like a quiet client
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for key, value in message.get("headers", []):
                    name = key.decode("latin-1").lower()
                    text = value.decode("latin-1")
                    response_headers[name] = (
                        f"{response_headers[name]}, {text}" if name in response_headers else text
                    )
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, send)
        except Exception:
            # What a server does: the app's exception is logged and the client gets the
            # 500 the app already sent (Starlette re-raises after sending it), or a bare
            # 500. The harness compares answers; it must not crash on one.
            _log.exception("%s: unhandled exception in the app under test", self.name)
            if not response_headers:
                status, chunks = 500, [b"Internal Server Error"]
        return status, response_headers, b"".join(chunks)
