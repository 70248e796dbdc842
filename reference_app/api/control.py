"""``/_parity``: the harness's control surface, mounted only in parity mode.

It lets a harness drive time, the outbox relay, transport failures, pause points and
process crashes (then a restart on the same store) over HTTP, so the same scenario runs
in-process or against a real server. Never mounted in production; ``python -m
reference_app`` refuses parity mode on a non-loopback host.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from reference_app.adapters.clock import ManualClock
from reference_app.api.worker import in_worker
from reference_app.domain.timefmt import format_ts
from reference_app.service_layer.outbox_relay import OutboxRelay
from reference_app.service_layer.ports import Transport

router = APIRouter(prefix="/_parity", include_in_schema=False)


class Advance(BaseModel):
    seconds: float = Field(ge=0, le=10 * 365 * 24 * 3600)


class Tick(BaseModel):
    """Sub-second steps (µs) the manual clock creeps by on each later read, cycled."""

    microseconds: list[Annotated[int, Field(ge=0, le=999_999)]] = Field(max_length=64)


class FailPattern(BaseModel):
    pattern: list[bool]


class RelayRun(BaseModel):
    #: the relay process dies right after its first publish went out, before marking the
    #: event sent: the event stays pending and goes out again later with the same id
    crash_after_publish: bool = False


class RelayDied(Exception):
    """Stands for the relay process dying between publish and mark-sent."""


class DieAfterPublish:
    """The relay's transport for a crash run: the first publish goes out, then the
    relay "dies" (raises), so nothing after the publish happens."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.name = inner.name
        self.published: str | None = None

    def publish(self, envelope: dict[str, Any]) -> None:
        self.inner.publish(envelope)
        self.published = str(envelope["id"])
        raise RelayDied(self.published)


class Tag(BaseModel):
    tag: str = Field(min_length=1, max_length=200)


class ArmPause(Tag):
    #: the kind of pause point the tagged request parks at (``adapters/pause.py``)
    at: Literal["before_commit", "before_claim"] = "before_commit"


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
async def relay(request: Request, body: RelayRun | None = None) -> dict[str, Any]:
    """One relay run: what it published, failed and dead-lettered. A crash run
    (``crash_after_publish``) answers only ``crashed_after``: the event that went out
    before the relay died (``null``: nothing was due; a queued transport failure it
    meets first is handled as usual, not listed). It is a request like any other, so
    a harness's trace records it and a replay repeats it: a crash injected by reaching
    into the app instead would change what later calls see without a trace of it."""
    relay = _container(request).relay
    if body is None or not body.crash_after_publish:
        return (await in_worker(relay.run_once)).as_dict()
    dying = DieAfterPublish(relay.transport)
    # a relay of its own around the app's: the app's relay and transport stay untouched
    run = OutboxRelay(relay.backend, dying, relay.clock, relay.policy, relay.batch_size)
    with contextlib.suppress(RelayDied):
        await in_worker(run.run_once)
    return {"crashed_after": dying.published}


@router.post("/transport/fail")
async def fail(body: FailPattern, request: Request) -> dict[str, int]:
    _container(request).transport.fail_next(body.pattern)
    return {"queued": len(body.pattern)}


@router.get("/transport/published")
async def published(request: Request) -> dict[str, Any]:
    return {"items": list(_container(request).transport.deliveries)}


@router.post("/pause/arm")
async def arm(body: ArmPause, request: Request) -> dict[str, str]:
    _container(request).pause.arm(body.tag, body.at)
    return {"armed": body.tag, "at": body.at}


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
