"""``/_parity``: the harness's control surface, mounted only in parity mode.

It lets a harness drive time, the outbox relay, transport failures, pause points and
process crashes (then a restart on the same store) over HTTP, so the same scenario runs
in-process or against a real server. Never mounted in production; ``python -m
reference_app`` refuses parity mode on a non-loopback host.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from reference_app.adapters.clock import ManualClock
from reference_app.api.worker import in_worker
from reference_app.domain.timefmt import format_ts

router = APIRouter(prefix="/_parity", include_in_schema=False)


class Advance(BaseModel):
    seconds: float = Field(ge=0, le=10 * 365 * 24 * 3600)


class Tick(BaseModel):
    """Sub-second steps (µs) the manual clock creeps by on each later read, cycled."""

    microseconds: list[Annotated[int, Field(ge=0, le=999_999)]] = Field(max_length=64)


class FailPattern(BaseModel):
    pattern: list[bool]


class Tag(BaseModel):
    tag: str = Field(min_length=1, max_length=200)


class ArmCrash(BaseModel):
    after_writes: int = Field(ge=1, le=1000)


def _container(request: Request) -> Any:
    return request.app.state.container


@router.get("/clock")
async def clock(request: Request) -> dict[str, str]:
    return {"now": format_ts(_container(request).clock.now())}


@router.post("/clock/advance")
async def advance(body: Advance, request: Request) -> dict[str, str]:
    clock = _container(request).clock
    if not isinstance(clock, ManualClock):
        raise RuntimeError("parity mode always wires a manual clock")
    return {"now": format_ts(clock.advance(body.seconds))}


@router.post("/clock/tick")
async def tick(body: Tick, request: Request) -> dict[str, str]:
    """Give the clock a real clock's sub-second texture (``ManualClock.tick``); an empty
    list stops it. A step outside 0..999999 is the caller's mistake: 422."""
    clock = _container(request).clock
    if not isinstance(clock, ManualClock):
        raise RuntimeError("parity mode always wires a manual clock")
    return {"now": format_ts(clock.tick(body.microseconds))}


@router.post("/outbox/relay")
async def relay(request: Request) -> dict[str, list[str]]:
    return (await in_worker(_container(request).relay.run_once)).as_dict()


@router.post("/transport/fail")
async def fail(body: FailPattern, request: Request) -> dict[str, int]:
    _container(request).transport.fail_next(body.pattern)
    return {"queued": len(body.pattern)}


@router.get("/transport/published")
async def published(request: Request) -> dict[str, Any]:
    return {"items": list(_container(request).transport.deliveries)}


@router.post("/pause/arm")
async def arm(body: Tag, request: Request) -> dict[str, str]:
    _container(request).pause.arm(body.tag)
    return {"armed": body.tag}


@router.get("/pause/waiting")
async def waiting(request: Request) -> dict[str, list[str]]:
    return {"tags": _container(request).pause.waiting()}


@router.post("/pause/release")
async def release(body: Tag, request: Request) -> dict[str, bool]:
    return {"released": _container(request).pause.release(body.tag)}


@router.post("/crash/arm")
async def arm_crash(body: ArmCrash, request: Request) -> dict[str, int]:
    """The next request dies after its ``after_writes``-th write (or before answering, if
    it has fewer); the app stays dead until ``/_parity/restart``."""
    _container(request).crash.arm(body.after_writes)
    return {"after_writes": body.after_writes}


@router.post("/restart")
async def restart(request: Request) -> dict[str, bool]:
    """Rebuild the app on the same store, as a process restarted after a crash."""
    from reference_app.bootstrap import restart_app

    await in_worker(restart_app, request.app)
    return {"restarted": True}
