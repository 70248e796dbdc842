"""A port implementation behind the lockstep driver's target interface.

The driver sends "requests" and compares "responses"; here a request is a method call
(``method`` = the Python method name, ``path`` = the port's name, ``json`` = the encoded
arguments) and the response says what came back: status 200 and ``{"returned": value}``,
or status 400 and ``{"raised": kind}`` where ``kind`` is the scenario's name for the
error (its ``errors`` mapping) or the exception's class name. So the one lockstep driver,
trace format, diff, shrinking, replay, baseline and report serve ports and HTTP alike.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from parity.ports.codec import decode_arg, encode_result
from parity.targets.base import Response

#: the status of an answer that raised (never 503: that one means "store down")
RAISED = 400
#: an error the scenario maps to this kind means "the store is down" (exit 2, no verdict)
UNAVAILABLE = "unavailable"
#: the raw answer's header carrying the exception's type and message (not compared)
EXCEPTION_HEADER = "x-parity-exception"

ErrorMap = Mapping[type[BaseException], str]


@dataclass(frozen=True)
class PortResponse(Response):
    """A response that also carries the live value or exception, so the scenario gets
    the reference's real objects back (not their JSON)."""

    value: Any = field(default=None, compare=False)
    error: BaseException | None = field(default=None, compare=False)


def error_kind(exc: BaseException, errors: ErrorMap) -> str:
    """The scenario's name for ``exc`` (its most specific mapped class), else its class
    name: two implementations' "not found" errors compare equal when both map to it."""
    for cls in type(exc).__mro__:
        if cls in errors:
            return errors[cls]
    return type(exc).__qualname__


async def awaited(value: Awaitable[Any]) -> Any:
    """``value``'s result, as a coroutine an event loop can run."""
    return await value


class PortTarget:
    """One example's object of one implementation; ``request`` calls a method on it."""

    def __init__(
        self,
        name: str,
        obj: Any,
        runner: asyncio.Runner,
        errors: ErrorMap,
        blocking_io: bool,
    ) -> None:
        self.name = name
        self.obj = obj
        self.runner = runner
        self.errors = errors
        self.blocking_io = blocking_io

    def resolve(self, value: Any) -> Any:
        """Await ``value`` on this target's own loop if it is awaitable (async ports)."""
        if inspect.isawaitable(value):
            return self.runner.run(awaited(value))
        return value

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        body: bytes | None = None,
    ) -> Response:
        payload = json if isinstance(json, dict) else {}
        started = time.perf_counter()
        try:
            func: Callable[..., Any] = getattr(self.obj, method)
            args = decode_arg(payload.get("args") or [])
            kwargs = decode_arg(payload.get("kwargs") or {})
            value = self.resolve(func(*args, **kwargs))
        except Exception as exc:
            kind = error_kind(exc, self.errors)
            return PortResponse(
                503 if kind == UNAVAILABLE else RAISED,
                {EXCEPTION_HEADER: f"{type(exc).__qualname__}: {exc}"[:500]},
                _dump({"raised": kind}),
                time.perf_counter() - started,
                error=exc,
            )
        elapsed = time.perf_counter() - started
        return PortResponse(200, {}, _dump({"returned": encode_result(value)}), elapsed, value)

    def close(self) -> None:
        self.runner.close()


def _dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=str).encode()
