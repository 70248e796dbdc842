"""One worker-thread hop per request for the sync service layer.

Why: the service layer is synchronous (its storage drivers block), so it must not run on
the event loop: a blocking call would stall every other request, and a request held at a
pause point would stall the one that releases it. FastAPI would run a sync endpoint *and
each sync dependency* on a worker thread, one hand-off apiece. Instead the endpoints are
``async``, the cheap dependencies (the container lookup, token verification) run on the
loop, and each endpoint hands its whole service call to a worker in one hop with
Starlette's public :func:`~starlette.concurrency.run_in_threadpool`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
T = TypeVar("T")


async def in_worker(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``call(*args, **kwargs)`` on a worker thread (context variables travel with it)."""
    return await run_in_threadpool(call, *args, **kwargs)
